#include "tests/testutil.h"
Suite *sl_bundle_suite(void) { return suite_create("bundle"); }
