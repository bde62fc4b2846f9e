lab_fault() { die "todo"; }
