// SPDX-License-Identifier: Apache-2.0
/* A dynamically linked program, for the `ld.so /tmp/x` conformance case. */
#include <stdio.h>

int main(void)
{
	return puts("hello") < 0;
}
