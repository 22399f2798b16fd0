/*
 * errno values for workload code.
 *
 * Why: workloads are also built freestanding (inside the guest agent) where
 * <errno.h> does not exist, yet they must return the same negative errno as
 * the hosted build. These are the Linux x86-64 numbers.
 */
#ifndef VIRTTAX_WL_ERRNO_H
#define VIRTTAX_WL_ERRNO_H

#define WL_EIO 5	 /* a kernel produced a wrong result */
#define WL_ENOMEM 12	 /* env->alloc returned NULL */
#define WL_EINVAL 22	 /* bad parameter value or unknown key */
#define WL_E2BIG 7	 /* command line too long for the parser's fixed storage */
#define WL_ETIMEDOUT 110 /* an operation did not complete within its bound */

#endif
