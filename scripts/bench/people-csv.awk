# The people CSV of the import benchmarks (bench-import.sh, bench-bulk.sh): `n` people in a
# reporting tree ten wide, each placed on the python template's matrix.
# Usage: awk -v n=ROWS -f scripts/bench/people-csv.awk > people.csv
BEGIN {
  print "email,name,manager_email,track,level,admin";
  split("beginner,intermediate,advanced,expert", levels, ",");
  for (i = 0; i < n; i++) {
    manager = (i == 0) ? "" : sprintf("p%d@bench.test", int((i - 1) / 10));
    printf "p%d@bench.test,Person %d,%s,python-developer,%s,\n", i, i, manager, levels[i % 4 + 1];
  }
}
