/*
 * argv_take_value: removal of one "--flag VALUE" / "--flag=VALUE" from argv.
 */
#include <criterion/criterion.h>

#include "harness/argv.h"

Test(argv, takes_both_forms_and_keeps_the_rest)
{
	char *argv[] = {"run", "--x", "1", "--keep", "--x=2", "--xy", "3", NULL};
	int argc = 7;
	const char *v = NULL;
	cr_assert_eq(argv_take_value(&argc, argv, "--x", &v), 0);
	cr_assert_str_eq(v, "2"); /* the last one wins */
	cr_assert_eq(argc, 4);
	cr_assert_str_eq(argv[1], "--keep");
	cr_assert_str_eq(argv[2], "--xy"); /* a longer flag is not a match */
	cr_assert_str_eq(argv[3], "3");
	cr_assert_null(argv[4]);
}

Test(argv, absent_missing_value_and_double_dash)
{
	char *a[] = {"run", "--y", NULL};
	int argc = 2;
	const char *v = "unset";
	cr_assert_eq(argv_take_value(&argc, a, "--x", &v), 1);
	cr_assert_str_eq(v, "unset");
	cr_assert_eq(argv_take_value(&argc, a, "--y", &v), 0);
	cr_assert_null(v);
	cr_assert_eq(argc, 1);

	char *b[] = {"run", "--", "--x", "1", NULL};
	argc = 4;
	cr_assert_eq(argv_take_value(&argc, b, "--x", &v), 1);
	cr_assert_eq(argc, 4);
}
