/*
 * qr: QR codes for short links, drawn as SVG. Pure: a string in, an SVG document out (no I/O,
 * no clock); the symbol itself comes from libqrencode (the only libqrencode calls live here).
 * The SVG carries nothing from the input but the modules' geometry, so it is safe to serve
 * from the site's own origin.
 */
#ifndef FS_QR_H
#define FS_QR_H
#include <stddef.h>

#include "buf.h"

#define QR_QUIET_ZONE	4	/* light modules around the symbol, as ISO/IEC 18004 asks */
#define QR_MODULE_PX	8	/* the SVG's nominal width and height per module */

/*
 * Appends to out an SVG of the QR code (error correction level M, 8-bit mode, the smallest
 * version that fits) for the len bytes of data. Returns the symbol's width in modules (21 for
 * version 1 ... 177 for version 40), or -1 when data is empty or longer than a QR code holds
 * (out unchanged).
 */
int	qr_svg(const char *data, size_t len, struct buf *out);

#endif
