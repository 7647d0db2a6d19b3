#include "tests/testutil.h"
Suite *sl_ingest_suite(void) { return suite_create("ingest"); }
