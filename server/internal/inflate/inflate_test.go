package inflate

import (
	"bytes"
	"compress/flate"
	"compress/gzip"
	"compress/zlib"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
)

func gz(b []byte) []byte {
	var out bytes.Buffer
	w := gzip.NewWriter(&out)
	w.Write(b)
	w.Close()
	return out.Bytes()
}

func zl(b []byte) []byte {
	var out bytes.Buffer
	w := zlib.NewWriter(&out)
	w.Write(b)
	w.Close()
	return out.Bytes()
}

func raw(b []byte) []byte {
	var out bytes.Buffer
	w, _ := flate.NewWriter(&out, flate.BestCompression)
	w.Write(b)
	w.Close()
	return out.Bytes()
}

func read(coding string, data []byte, limit int64) ([]byte, error) {
	return io.ReadAll(Body(io.NopCloser(bytes.NewReader(data)), coding, limit))
}

func TestCoding(t *testing.T) {
	for in, want := range map[string]string{"": "", "identity": "", "gzip": "gzip", "GZip": "gzip", "x-gzip": "gzip",
		"deflate": "deflate", " gzip , identity": "gzip"} {
		h := http.Header{}
		if in != "" {
			h.Set("Content-Encoding", in)
		}
		if got, err := Coding(h); got != want || err != nil {
			t.Errorf("%q: %q %v, want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"br", "zstd", "compress", "gzip, gzip", "gzip, deflate", "gzip;q=1"} {
		if _, err := Coding(http.Header{"Content-Encoding": {in}}); !errors.Is(err, ErrUnsupported) {
			t.Errorf("%q: %v, want ErrUnsupported", in, err)
		}
	}
	if _, err := Coding(http.Header{"Content-Encoding": {"gzip", "deflate"}}); !errors.Is(err, ErrUnsupported) {
		t.Errorf("two headers: %v", err)
	}
}

func TestBody(t *testing.T) {
	msg := []byte(strings.Repeat("<soap:Envelope>token</soap:Envelope>", 100))
	for name, c := range map[string]struct {
		coding string
		data   []byte
	}{"gzip": {"gzip", gz(msg)}, "zlib": {"deflate", zl(msg)}, "raw deflate": {"deflate", raw(msg)}} {
		got, err := read(c.coding, c.data, int64(len(msg)))
		if err != nil || !bytes.Equal(got, msg) {
			t.Errorf("%s at the limit: %d bytes, %v", name, len(got), err)
		}
		got, err = read(c.coding, c.data, int64(len(msg))-1)
		var tooBig *http.MaxBytesError
		if !errors.As(err, &tooBig) || len(got) != len(msg)-1 {
			t.Errorf("%s one byte over: %d bytes, %v", name, len(got), err)
		}
	}
	// A bomb: 16 MiB of zeros is 16 KiB of gzip; reading stops at the limit, having read a few KiB.
	var bomb bytes.Buffer
	w, _ := gzip.NewWriterLevel(&bomb, gzip.BestCompression)
	zeros := make([]byte, 1<<20)
	for range 16 {
		w.Write(zeros)
	}
	w.Close()
	src := &countingReader{r: bytes.NewReader(bomb.Bytes()), left: 1 << 40}
	got, err := io.ReadAll(Body(io.NopCloser(src), "gzip", 1<<20))
	var tooBig *http.MaxBytesError
	if !errors.As(err, &tooBig) || len(got) != 1<<20 {
		t.Fatalf("bomb: %d bytes, %v", len(got), err)
	}
	if read := 1<<40 - src.left; read > 64<<10 {
		t.Errorf("bomb: read %d compressed bytes for 1 MiB", read)
	}
	// Endless empty gzip members give no data: refused after RawLimit, not read for ever.
	empty := gz(nil)
	padding := bytes.Repeat(empty, int(RawLimit(1000))/len(empty)+2)
	if got, err := read("gzip", padding, 1000); !errors.As(err, &tooBig) || len(got) != 0 {
		t.Errorf("empty members: %d bytes, %v", len(got), err)
	}
	// Malformed streams are read errors, not size errors.
	for name, c := range map[string]struct {
		coding string
		data   []byte
	}{"not gzip": {"gzip", []byte("<soap:Envelope/>")}, "truncated": {"gzip", gz(msg)[:40]}, "bad zlib checksum": {"deflate", append(zl(msg)[:len(zl(msg))-1], 0)}} {
		if _, err := read(c.coding, c.data, 1<<20); err == nil || errors.As(err, &tooBig) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// reference decodes data without limits, as the sender's library would.
func reference(coding string, data []byte) ([]byte, error) {
	var r io.Reader
	switch {
	case coding == "gzip":
		zr, err := gzip.NewReader(bytes.NewReader(data))
		if err != nil {
			return nil, err
		}
		r = zr
	case len(data) >= 2 && isZlibHeader(data[0], data[1]):
		zr, err := zlib.NewReader(bytes.NewReader(data))
		if err != nil {
			return nil, err
		}
		r = zr
	default:
		r = flate.NewReader(bytes.NewReader(data))
	}
	return io.ReadAll(io.LimitReader(r, 1<<20))
}

// FuzzBody: whatever the bytes, the reader gives at most limit bytes and reads at most RawLimit(limit) of its
// input; what it gives is a prefix of what an unbounded decoder gives, all of it when it reports no error.
func FuzzBody(f *testing.F) {
	msg := []byte("<soap:Envelope><soap:Body><getAccessToken/></soap:Body></soap:Envelope>")
	f.Add(gz(msg), false, uint16(1000))
	f.Add(gz(msg), false, uint16(10))
	f.Add(zl(msg), true, uint16(1000))
	f.Add(raw(msg), true, uint16(5))
	f.Add(gz(make([]byte, 100000)), false, uint16(4096))
	f.Add(bytes.Repeat(gz(nil), 300), false, uint16(100))
	f.Add([]byte{0x78, 0x9c}, true, uint16(0))
	f.Fuzz(func(t *testing.T, data []byte, deflate bool, limit uint16) {
		coding := "gzip"
		if deflate {
			coding = "deflate"
		}
		src := &countingReader{r: bytes.NewReader(data), left: 1 << 40}
		got, err := io.ReadAll(Body(io.NopCloser(src), coding, int64(limit)))
		if len(got) > int(limit) {
			t.Fatalf("%d bytes past the limit %d", len(got), limit)
		}
		if consumed := 1<<40 - src.left; consumed > RawLimit(int64(limit))+1 {
			t.Fatalf("read %d raw bytes, bound %d", consumed, RawLimit(int64(limit)))
		}
		want, refErr := reference(coding, data)
		if !bytes.HasPrefix(want, got) {
			t.Fatalf("gave %q, not a prefix of %q", got, want)
		}
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) && len(got) != int(limit) && len(data) <= int(RawLimit(int64(limit))) {
			t.Fatalf("size error after %d of %d bytes", len(got), limit)
		}
		if err == nil && (refErr != nil || !bytes.Equal(got, want)) {
			t.Fatalf("no error, gave %d bytes; unbounded decoder: %d bytes, %v", len(got), len(want), refErr)
		}
	})
}
