lab_status() { die todo; }
