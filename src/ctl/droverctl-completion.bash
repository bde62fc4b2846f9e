# SPDX-License-Identifier: LGPL-2.1-or-later
# bash completion for droverctl (installed as $datadir/bash-completion/completions/droverctl).
# Verbs and options are static; run ids, incident ids and sites are asked of droverd
# (read methods, allowed to group drover) and silently skipped when it does not answer.
_droverctl_ids() { # json-verb field
        droverctl "$1" --json 2>/dev/null | python3 -c '
import json, sys
try:
    v = json.load(sys.stdin)
except Exception:
    sys.exit(0)
for o in v:
    print(o.get(sys.argv[1], ""))' "$2" 2>/dev/null
}

_droverctl() {
        # Plain COMP_WORDS: works with or without the bash-completion package.
        local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD - 1]}
        local -a words=("${COMP_WORDS[@]}")
        local cword=$COMP_CWORD
        local verbs="validate status sites incidents incident run attach runs show approve deny skip abort ack note maintenance override reload"
        local common="--config --db --json --no-color --verbose --help"
        local verb="" i
        for ((i = 1; i < cword; i++)); do
                case "${words[i]}" in
                -c | --config | --db | -p | --param | -m | --comment | --limit) ((i++)) ;;
                -*) ;;
                *) verb="${words[i]}"; break ;;
                esac
        done

        case "$prev" in
        -c | --config | --db)
                COMPREPLY=($(compgen -f -- "$cur"))
                return
                ;;
        -p | --param | -m | --comment | --limit)
                return
                ;;
        esac

        if [ -z "$verb" ]; then
                if [[ "$cur" == -* ]]; then
                        COMPREPLY=($(compgen -W "$common --version" -- "$cur"))
                else
                        COMPREPLY=($(compgen -W "$verbs" -- "$cur"))
                fi
                return
        fi

        local opts="$common"
        case "$verb" in
        run) opts+=" --param --dry-run --detach --local --accept-new-host-keys --override-no-quorum" ;;
        runs) opts+=" --limit" ;;
        incidents | override) opts+=" --all" ;;
        approve | deny | skip) opts+=" --comment" ;;
        esac
        if [[ "$cur" == -* ]]; then
                COMPREPLY=($(compgen -W "$opts" -- "$cur"))
                return
        fi
        case "$verb" in
        validate | run) COMPREPLY=($(compgen -f -- "$cur")) ;;
        attach | show | abort)
                COMPREPLY=($(compgen -W "$(droverctl runs --json --limit 20 2>/dev/null |
                        python3 -c 'import json,sys; [print(o["id"]) for o in json.load(sys.stdin)]' 2>/dev/null)" -- "$cur"))
                ;;
        approve | deny)
                if [ "$prev" = approve ] || [ "$prev" = deny ]; then
                        COMPREPLY=($(compgen -W "run incident" -- "$cur"))
                fi
                ;;
        incident | ack | note) COMPREPLY=($(compgen -W "$(_droverctl_ids incidents id)" -- "$cur")) ;;
        maintenance | override)
                if [ "$prev" = maintenance ] || [ "$prev" = override ]; then
                        COMPREPLY=($(compgen -W "$(_droverctl_ids sites name)" -- "$cur"))
                else
                        COMPREPLY=($(compgen -W "on off" -- "$cur"))
                fi
                ;;
        esac
}
complete -o filenames -F _droverctl droverctl
