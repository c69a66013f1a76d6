// Package inflate decodes compressed request bodies (Content-Encoding: gzip or deflate, RFC 7694) under a
// bound on the decoded size, so that a small compressed body cannot become a large one in memory.
package inflate

import (
	"bufio"
	"compress/flate"
	"compress/gzip"
	"compress/zlib"
	"errors"
	"io"
	"net/http"
	"strings"
)

// Accepted lists the content codings a request body may have, for Accept-Encoding on a 415 (RFC 7694 §3).
const Accepted = "gzip, deflate"

// ErrUnsupported is returned for a content coding other than gzip, deflate and identity, or for more than one.
var ErrUnsupported = errors.New("unsupported Content-Encoding")

// Coding reads a Content-Encoding header: "" for none (absent, or identity only), "gzip" or "deflate", or
// ErrUnsupported. x-gzip is gzip (RFC 9110 §8.4.1.3).
func Coding(h http.Header) (string, error) {
	var found string
	for _, v := range h.Values("Content-Encoding") {
		for _, c := range strings.Split(v, ",") {
			c = strings.ToLower(strings.TrimSpace(c))
			switch c {
			case "", "identity":
				continue
			case "x-gzip":
				c = "gzip"
			case "gzip", "deflate":
			default:
				return "", ErrUnsupported
			}
			if found != "" { // a body compressed twice is no client's, and each layer would need its own bound
				return "", ErrUnsupported
			}
			found = c
		}
	}
	return found, nil
}

// RawLimit is the most compressed bytes read for a body of at most limit decoded bytes. Compression can make
// incompressible data a little larger (5 bytes per 16 KiB stored block, plus headers), never twice as large; a
// longer stream is padding (empty gzip members, empty blocks) that would take time without giving data.
func RawLimit(limit int64) int64 { return 2*limit + 1024 }

// Body returns a reader of raw decoded as coding ("gzip" or "deflate": zlib as RFC 9110 says, or raw DEFLATE as
// some clients send it). It yields at most limit decoded bytes, and reads at most RawLimit(limit) bytes of raw;
// beyond either, Read returns an *http.MaxBytesError. The decoder starts at the first Read, so a malformed
// header is a read error for the handler to answer in its own format. Close closes raw.
func Body(raw io.ReadCloser, coding string, limit int64) io.ReadCloser {
	return &body{raw: raw, in: &countingReader{r: raw, left: RawLimit(limit), limit: limit}, coding: coding, left: limit, limit: limit}
}

type body struct {
	raw    io.ReadCloser
	in     *countingReader
	coding string
	dec    io.Reader
	closer io.Closer
	left   int64 // decoded bytes still allowed
	limit  int64
	err    error
}

func (b *body) start() error {
	br := bufio.NewReader(b.in)
	switch b.coding {
	case "gzip":
		zr, err := gzip.NewReader(br)
		if err == io.EOF {
			return io.ErrUnexpectedEOF // an empty body is no gzip stream
		}
		if err != nil {
			return err
		}
		b.dec, b.closer = zr, zr
	case "deflate":
		if hdr, err := br.Peek(2); err == nil && isZlibHeader(hdr[0], hdr[1]) {
			zr, err := zlib.NewReader(br)
			if err != nil {
				return err
			}
			b.dec, b.closer = zr, zr
		} else {
			fr := flate.NewReader(br)
			b.dec, b.closer = fr, fr
		}
	default:
		return ErrUnsupported
	}
	return nil
}

// isZlibHeader reports whether two bytes open a zlib stream (RFC 1950): method 8 (deflate), a window of at most
// 32 KiB, and a check that makes the pair a multiple of 31. A raw DEFLATE stream may pass too by chance; zlib
// then fails on the checksum, as the sender's own library would have.
func isZlibHeader(cmf, flg byte) bool {
	return cmf&0x0f == 8 && cmf>>4 <= 7 && (uint16(cmf)<<8|uint16(flg))%31 == 0
}

func (b *body) Read(p []byte) (int, error) {
	if b.err != nil {
		return 0, b.err
	}
	if b.dec == nil {
		if err := b.start(); err != nil {
			b.err = b.fail(err)
			return 0, b.err
		}
	}
	if len(p) == 0 {
		return 0, nil
	}
	// Ask for one byte more than allowed, to tell "exactly the limit" from "over it".
	if int64(len(p)) > b.left+1 {
		p = p[:b.left+1]
	}
	n, err := b.dec.Read(p)
	if int64(n) > b.left {
		n, err = int(b.left), &http.MaxBytesError{Limit: b.limit}
	}
	b.left -= int64(n)
	if err != nil {
		err = b.fail(err)
		b.err = err
	}
	return n, err
}

// fail turns an error caused by the raw bound (which the decoder may report as a truncated stream) into the
// size error it stands for.
func (b *body) fail(err error) error {
	if b.in.over {
		return &http.MaxBytesError{Limit: b.limit}
	}
	return err
}

func (b *body) Close() error {
	if b.closer != nil {
		b.closer.Close()
	}
	return b.raw.Close()
}

// countingReader reads at most left bytes of r, then fails.
type countingReader struct {
	r     io.Reader
	left  int64
	limit int64
	over  bool
}

func (c *countingReader) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	if c.left <= 0 {
		// At the bound: a stream that ends here is within it; one byte more is not.
		var one [1]byte
		if n, err := c.r.Read(one[:]); n == 0 && err != nil {
			return 0, err
		}
		c.over = true
		return 0, &http.MaxBytesError{Limit: c.limit}
	}
	if int64(len(p)) > c.left {
		p = p[:c.left]
	}
	n, err := c.r.Read(p)
	c.left -= int64(n)
	return n, err
}
