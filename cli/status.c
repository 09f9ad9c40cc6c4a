/* The exit statuses as `kvmbox help` prints them, from the one table in cli/status.h. */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include "status.h"

#define WIDTH 90  /* the usage text's width (cli/opts.c) */
#define INDENT 10 /* "  128+N   " */

/* TEXT without its code marks (`), wrapped to WIDTH columns: the first line goes on from
 * column COL, the next ones start at column INDENT. */
static void wrap(FILE *out, const char *text, unsigned col, unsigned indent)
{
	bool fresh = true; /* no word of TEXT on this line yet */

	while (*text) {
		size_t len = strcspn(text, " "), shown = len, i;

		for (i = 0; i < len; i++)
			shown -= text[i] == '`';
		if (!fresh && col + 1 + shown > WIDTH) {
			fprintf(out, "\n%*s", (int)indent, "");
			col = indent;
			fresh = true;
		}
		if (!fresh) {
			fputc(' ', out);
			col++;
		}
		for (i = 0; i < len; i++)
			if (text[i] != '`')
				fputc(text[i], out);
		col += (unsigned)shown;
		fresh = false;
		text += len;
		text += strspn(text, " ");
	}
	fputc('\n', out);
}

void cli_print_statuses(FILE *out)
{
#define ROW(name, value, label, meaning) { label, meaning },
	static const struct { const char *label, *meaning; } rows[] = { EXIT_STATUSES(ROW) };
#undef ROW
#define WORST(name) name,
	static const int worst[] = { EXIT_WORST_FIRST(WORST) };
#undef WORST
	char list[64], rule[256];
	size_t i, n = 0;

	fputs("Exit status:\n", out);
	wrap(out, EXIT_STATUS_INTRO, 0, 0);
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		fprintf(out, "  %-*s", INDENT - 2, rows[i].label);
		wrap(out, rows[i].meaning, INDENT, INDENT);
	}
	for (i = 0; i < sizeof(worst) / sizeof(worst[0]); i++)
		n += (size_t)snprintf(list + n, sizeof(list) - n, "%s%d", i ? ", " : "", worst[i]);
	snprintf(rule, sizeof(rule), EXIT_WORST_RULE, list);
	wrap(out, rule, 0, 0);
}
