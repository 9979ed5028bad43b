"""After-sales (售后): missing, damaged or wrong items reported with photos; pickup ratings."""
