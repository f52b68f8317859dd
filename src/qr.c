#include "qr.h"

#include <limits.h>

#include <qrencode.h>

/*
 * One <path> for the whole symbol: each horizontal run of dark modules is one rectangle
 * ("M x y h n v 1 h -n z"), which keeps a 177-module symbol well under 100 KB, and
 * shape-rendering="crispEdges" keeps adjacent rectangles from showing seams when scaled.
 */
int
qr_svg(const char *data, size_t len, struct buf *out)
{
	QRcode *qr;
	int w, size, x, y, run;

	if (len == 0 || len > INT_MAX)
		return -1;
	qr = QRcode_encodeData((int)len, (const unsigned char *)data, 0, QR_ECLEVEL_M);
	if (qr == NULL)
		return -1;
	w = qr->width;
	size = w + 2 * QR_QUIET_ZONE;
	buf_printf(out, "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" "
	    "viewBox=\"0 0 %d %d\" width=\"%d\" height=\"%d\" shape-rendering=\"crispEdges\">"
	    "<rect width=\"%d\" height=\"%d\" fill=\"#fff\"/><path fill=\"#000\" d=\"",
	    size, size, size * QR_MODULE_PX, size * QR_MODULE_PX, size, size);
	for (y = 0; y < w; y++) {
		for (x = 0; x < w; x += run > 0 ? run : 1) {
			/* Bit 0 of each byte is the module's colour; the rest is libqrencode's. */
			for (run = 0; x + run < w && (qr->data[y * w + x + run] & 1); run++)
				;
			if (run > 0)
				buf_printf(out, "M%d %dh%dv1h-%dz", x + QR_QUIET_ZONE, y + QR_QUIET_ZONE,
				    run, run);
		}
	}
	buf_appends(out, "\"/></svg>\n");
	QRcode_free(qr);
	return w;
}
