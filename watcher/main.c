/*
 * main.c: the command line (placeholder until the CLI lands).
 */
#include <stdio.h>

#include "watcher.h"

int
main(void)
{
	printf("%s %s\n", AW_NAME, AW_VERSION);
	return (0);
}
