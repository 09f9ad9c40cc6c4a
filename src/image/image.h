/* What the image parser decides that others check again: the rule for an exported
 * function's name, which a snapshot's saved exports must follow too. Internal. */
#ifndef KVMBOX_IMAGE_IMAGE_H
#define KVMBOX_IMAGE_IMAGE_H

#include <stdbool.h>

/* A character of an export's name: what a C or assembler symbol is made of, nothing that a
 * terminal or a shell would read as more than a name (`kvmbox call --list` prints them). */
bool image_name_char(char c);

#endif
