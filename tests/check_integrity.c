#include "tests/testutil.h"
Suite *sl_integrity_suite(void) { return suite_create("integrity"); }
