/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * dbus-api.h — droverd's D-Bus API: the contract between droverd (src/bus/) and its
 * clients (droverctl, scripts through busctl). Names only; no code. Keep them stable:
 * the "1" in org.drover1 is the API version, a breaking change gets org.drover2.
 *
 * Objects
 *   /org/drover1                 org.drover1.Manager   methods, signals, Accepting/Version
 *   /org/drover1/incident/ID     org.drover1.Incident  one incident of the journal
 *   /org/drover1/run/ID          org.drover1.Run       one run of the journal (live while running)
 *
 * Signatures (x = run/incident id, t = CLOCK_REALTIME µs, 0 = none)
 *   ListSites()                         → a(sssibb)  name, role, health, level, active, maintenance
 *   GetSite(s name)                     → (sssibb)
 *   ListIncidents(b open_only)          → a(xsssssibtt) id, site, subject, phenomenon, impact,
 *                                          state, level, drill, opened, closed
 *   GetIncident(x id)                   → (xsssssibtt) a(tsssssx) log: at, actor, kind, text,
 *                                          state_from, state_to, run_id
 *   ListRuns(u limit)                   → a(xssssssttuu) id, playbook, mode, trigger, actor,
 *                                          outcome, state, started, ended, steps, failed
 *   GetRun(x id)                        → (xssssssttuu) (ssuu) current step, pending prompt,
 *                                          steps done, steps total
 *   GetRunSteps(x id)                   → (sssssis) playbook path, sha256, kind, params (masked),
 *                                          hostname, pid, error;
 *                                          a(issssutttsixssss) step attempts: index, name, kind,
 *                                          phase, target, attempt, started, ended, duration µs,
 *                                          outcome, exit status, HTTP status, detail, error,
 *                                          stdout, stderr; a(tss) events: at, kind, message
 *   StartRun(s playbook, a{ss} params, t flags) → x run_id, s plan (dry run only, else "";
 *                                          the plan is the run worker's JSON lines)
 *   Approve(s kind, x id, s comment)    kind "run" (an approve step) or "incident" (a
 *   Deny(s kind, x id, s comment)         playbook the policy proposed)
 *   AbortRun(x id)  AcknowledgeIncident(x id)  AddNote(x id, s text)
 *   SetMaintenance(s site, b on)  Reload()
 *   SetOverride(s site, b on)           manual override: nothing automatic for the site ("" =
 *                                          every site); the policy proposes instead
 *
 * Cluster (a `cluster:` section): properties ClusterRole, ClusterNode, ClusterLeader,
 * ClusterEpoch, ClusterMembers; signal ClusterEvent(s kind, s node, s leader, t epoch,
 * s reason), kind "cluster-elected" | "cluster-stepped-down" | "cluster-following" |
 * "cluster-no-quorum" | "cluster-override". Read methods answer on every node. On a
 * follower every mutating method but Reload is refused with NotLeader ("this node
 * follows; the leader is backup (epoch 42)"). Without quorum StartRun is refused with
 * NoQuorum unless flags has OVERRIDE_NO_QUORUM, and Approve("incident", …) is refused
 * (it would start a run); the other mutating methods concern this node's own runs and
 * state and are answered.
 *
 * Read methods: group `drover` (policy file). Mutating methods: root or group
 * `drover-commanders`, checked by the policy file AND by droverd on the sender's
 * credentials; every mutating call (refused ones too) is journaled with the caller.
 */
#pragma once

#define DROVER_DBUS_NAME "org.drover1"
#define DROVER_DBUS_PATH "/org/drover1"
#define DROVER_DBUS_INCIDENT_PREFIX "/org/drover1/incident"
#define DROVER_DBUS_RUN_PREFIX "/org/drover1/run"

#define DROVER_DBUS_MANAGER_INTERFACE "org.drover1.Manager"
#define DROVER_DBUS_INCIDENT_INTERFACE "org.drover1.Incident"
#define DROVER_DBUS_RUN_INTERFACE "org.drover1.Run"

/* The groups the policy file and droverd's own check use. */
#define DROVER_GROUP_READERS "drover"
#define DROVER_GROUP_COMMANDERS "drover-commanders"

/* StartRun flags */
#define DROVER_RUN_FLAG_DRY_RUN (UINT64_C(1) << 0)
/* Without etcd quorum (ClusterRole "no-quorum") a manual run is refused unless the
 * commander asks for it explicitly; the run is journaled as a "cluster-override" event. */
#define DROVER_RUN_FLAG_OVERRIDE_NO_QUORUM (UINT64_C(1) << 1)
#define _DROVER_RUN_FLAGS_ALL (DROVER_RUN_FLAG_DRY_RUN | DROVER_RUN_FLAG_OVERRIDE_NO_QUORUM)

/* Manager methods */
#define DROVER_DBUS_METHOD_LIST_SITES "ListSites"
#define DROVER_DBUS_METHOD_GET_SITE "GetSite"
#define DROVER_DBUS_METHOD_LIST_INCIDENTS "ListIncidents"
#define DROVER_DBUS_METHOD_GET_INCIDENT "GetIncident"
#define DROVER_DBUS_METHOD_LIST_RUNS "ListRuns"
#define DROVER_DBUS_METHOD_GET_RUN "GetRun"
#define DROVER_DBUS_METHOD_GET_RUN_STEPS "GetRunSteps"
#define DROVER_DBUS_METHOD_START_RUN "StartRun"
#define DROVER_DBUS_METHOD_APPROVE "Approve"
#define DROVER_DBUS_METHOD_DENY "Deny"
/* s kind ("run"), x id, s comment: at a run's resume gate (issue 9), the step another node
 * left in flight is journaled skipped and the run goes on. Other gates: InvalidArgs. */
#define DROVER_DBUS_METHOD_SKIP "Skip"
#define DROVER_DBUS_METHOD_ABORT_RUN "AbortRun"
#define DROVER_DBUS_METHOD_ACK_INCIDENT "AcknowledgeIncident"
#define DROVER_DBUS_METHOD_ADD_NOTE "AddNote"
#define DROVER_DBUS_METHOD_SET_MAINTENANCE "SetMaintenance"
#define DROVER_DBUS_METHOD_SET_OVERRIDE "SetOverride"
#define DROVER_DBUS_METHOD_RELOAD "Reload"

/* Manager signals */
#define DROVER_DBUS_SIGNAL_STEP_STARTED "StepStarted"             /* x run, s step, s target */
#define DROVER_DBUS_SIGNAL_STEP_FINISHED "StepFinished"           /* x run, s step, s target, s outcome */
#define DROVER_DBUS_SIGNAL_LEVEL_CHANGED "LevelChanged"           /* s site, i level, s health */
#define DROVER_DBUS_SIGNAL_APPROVAL_REQUESTED "ApprovalRequested" /* s kind, x id, s prompt */
#define DROVER_DBUS_SIGNAL_RUN_CHANGED "RunChanged"               /* x run, s state, s step, u done, u total, s outcome */
#define DROVER_DBUS_SIGNAL_INCIDENT_CHANGED "IncidentChanged"     /* x incident, s state, i level */
#define DROVER_DBUS_SIGNAL_CLUSTER_EVENT "ClusterEvent" /* s kind, s node, s leader, t epoch, s reason */

/* Manager properties */
#define DROVER_DBUS_PROPERTY_ACCEPTING "Accepting" /* b */
#define DROVER_DBUS_PROPERTY_VERSION "Version"     /* s */
/* The cluster (issue 9), with PropertiesChanged. Standalone: "standalone", "", "", 0, []. */
#define DROVER_DBUS_PROPERTY_CLUSTER_ROLE "ClusterRole"       /* s standalone|leader|follower|no-quorum */
#define DROVER_DBUS_PROPERTY_CLUSTER_NODE "ClusterNode"       /* s this node */
#define DROVER_DBUS_PROPERTY_CLUSTER_LEADER "ClusterLeader"   /* s the leader, "" when unknown */
#define DROVER_DBUS_PROPERTY_CLUSTER_EPOCH "ClusterEpoch"     /* t the leader's epoch, 0 when unknown */
#define DROVER_DBUS_PROPERTY_CLUSTER_MEMBERS "ClusterMembers" /* as nodes with a live presence key */

/* Errors. Bad arguments are org.freedesktop.DBus.Error.InvalidArgs with the reason;
 * callers refused are org.freedesktop.DBus.Error.AccessDenied. */
#define DROVER_DBUS_ERROR_NO_SUCH_INCIDENT "org.drover1.Error.NoSuchIncident"
#define DROVER_DBUS_ERROR_NO_SUCH_RUN "org.drover1.Error.NoSuchRun"
#define DROVER_DBUS_ERROR_NO_SUCH_SITE "org.drover1.Error.NoSuchSite"
#define DROVER_DBUS_ERROR_FOUR_EYES "org.drover1.Error.FourEyes"         /* approver = requester */
#define DROVER_DBUS_ERROR_NOT_ACCEPTING "org.drover1.Error.NotAccepting" /* droverd is stopping */
#define DROVER_DBUS_ERROR_NOTHING_PENDING "org.drover1.Error.NothingPending" /* ended, no gate, … */
#define DROVER_DBUS_ERROR_NOT_SUPPORTED "org.drover1.Error.NotSupported"
#define DROVER_DBUS_ERROR_NOT_LEADER "org.drover1.Error.NotLeader" /* a follower: the message names the leader */
#define DROVER_DBUS_ERROR_NO_QUORUM "org.drover1.Error.NoQuorum"   /* no etcd quorum, no override */
#define DROVER_DBUS_ERROR_ACCESS_DENIED "org.freedesktop.DBus.Error.AccessDenied"
#define DROVER_DBUS_ERROR_INVALID_ARGS "org.freedesktop.DBus.Error.InvalidArgs"
