/* Test guest: like halt.S but halts with interrupts on; nothing ever
 * interrupts it, so only the watchdog ends it (exit 67). */
#define HALT_STI 1
#include "halt.S"
