lab_workload() { die todo; }
workload_stop_quiet() { :; }
