/* proto_flood.S with 65 x 64 KiB of records (4.06 MiB): past the parser's
 * 4 MiB limit in ~70 s of port-I/O exits, for the integration test. */
#define FLOOD_BLOCKS 65
#include "proto_flood.S"
