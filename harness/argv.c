/*
 * argv_take_value (see argv.h).
 */
#include "harness/argv.h"

#include <string.h>

static void argv_drop(int *argc, char **argv, int i, int n)
{
	memmove(&argv[i], &argv[i + n], (size_t)(*argc - i - n + 1) * sizeof(char *));
	*argc -= n;
}

int argv_take_value(int *argc, char **argv, const char *flag, const char **val)
{
	size_t n = strlen(flag);
	int found = 0;
	for (int i = 1; i < *argc; i++) {
		if (!strcmp(argv[i], "--"))
			break;
		if (strncmp(argv[i], flag, n))
			continue;
		if (argv[i][n] == '=') {
			*val = argv[i] + n + 1;
			argv_drop(argc, argv, i, 1);
		} else if (!argv[i][n]) {
			*val = i + 1 < *argc ? argv[i + 1] : NULL;
			argv_drop(argc, argv, i, *val ? 2 : 1);
		} else {
			continue;
		}
		found = 1;
		i--;
	}
	return found ? 0 : 1;
}
