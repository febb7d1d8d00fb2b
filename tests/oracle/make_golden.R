# Entry point of `make oracle`: regenerates every golden file under tests/oracle/.
# Run from this directory (the Makefile does `cd tests/oracle && Rscript make_golden.R`).
# Each golden_*.R script beside this file writes its own outputs; this file only runs them.
options(warn = 1)
scripts <- sort(list.files(".", pattern = "^golden_.*\\.R$"))
for (script in scripts) {
  message("running ", script)
  source(script, local = new.env())
}
