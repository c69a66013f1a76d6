package soap

import (
	"context"
	"errors"
	"net/http"
)

// Handler serves one operation. It returns a Response, or an error: a *Fault is sent as it is, anything else
// becomes a generic Server fault (and is reported to the Endpoint's OnError, never to the client).
type Handler func(w http.ResponseWriter, r *http.Request, env *Envelope) (Response, error)

type opName struct{ ns, local string }

// Endpoint dispatches POSTed envelopes to operations.
type Endpoint struct {
	ops map[opName]Handler
	// MaxBytes bounds the request body (default 1 MiB).
	MaxBytes int64
	// Streaming reads envelopes with ReadStream (no etree tree: Envelope.Header and Body are nil), for endpoints
	// whose handlers read the envelope only through its methods and UsernameTokenFrom.
	Streaming bool
	// Understood lists header blocks (namespace URI → local names) the handlers process; any other block
	// marked mustUnderstand is refused with a MustUnderstand fault, as SOAP requires.
	Understood map[string][]string
	// OnError receives internal errors; nil drops them.
	OnError func(ctx context.Context, err error)
	// Failure, when set, is used instead of OnError: it reports an internal error and returns the HTTP status
	// of the Server fault sent for it (500, or 503 when the failure will pass), having set any headers, such
	// as Retry-After, in h.
	Failure func(ctx context.Context, h http.Header, err error) int
}

// Handle registers h for the operation {ns}local.
func (e *Endpoint) Handle(ns, local string, h Handler) {
	if e.ops == nil {
		e.ops = make(map[opName]Handler)
	}
	e.ops[opName{ns, local}] = h
}

// ServeHTTP reads, dispatches and answers one SOAP request.
func (e *Endpoint) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	max := e.MaxBytes
	if max <= 0 {
		max = 1 << 20
	}
	if r.ContentLength > max {
		WriteFault(w, &Fault{Version: V11, Code: CodeClient, String: "request body too large", Status: http.StatusRequestEntityTooLarge})
		return
	}
	read := Read
	if e.Streaming {
		read = ReadStream
	}
	env, err := read(http.MaxBytesReader(w, r.Body, max), r.Header.Get("Content-Type"))
	if err != nil {
		e.fail(w, r, V11, err)
		return
	}
	if f := e.checkMustUnderstand(env); f != nil {
		WriteFault(w, f)
		return
	}
	ns, local := env.Operation()
	h, ok := e.ops[opName{ns, local}]
	if !ok {
		WriteFault(w, ClientFault(env.Version, "unknown operation {"+ns+"}"+local))
		return
	}
	if dup := env.Repeated(); dup != "" {
		WriteFault(w, ClientFault(env.Version, "element "+dup+" appears more than once"))
		return
	}
	resp, err := h(w, r, env)
	if err != nil {
		var f *Fault
		if errors.As(err, &f) && f.Version == 0 {
			f.Version = env.Version
		}
		e.fail(w, r, env.Version, err)
		return
	}
	WriteResponse(w, env.Version, resp)
}

func (e *Endpoint) fail(w http.ResponseWriter, r *http.Request, v Version, err error) {
	var f *Fault
	if errors.As(err, &f) {
		WriteFault(w, f)
		return
	}
	if e.Failure != nil {
		if status := e.Failure(r.Context(), w.Header(), err); status == http.StatusServiceUnavailable {
			WriteFault(w, &Fault{Version: v, Code: CodeServer, String: "service temporarily unavailable; retry later", Status: status})
			return
		}
	} else if e.OnError != nil {
		e.OnError(r.Context(), err)
	}
	WriteFault(w, ServerFault(v, "internal server error"))
}

func (e *Endpoint) checkMustUnderstand(env *Envelope) *Fault {
	if env.hdr == nil {
		return nil
	}
	for _, blk := range env.hdr.elems() {
		if mu := blk.mustUnderstand(env.Version.ns()); mu != "1" && mu != "true" {
			continue
		}
		understood := false
		for _, local := range e.Understood[blk.nsURI()] {
			if local == blk.local() {
				understood = true
			}
		}
		if !understood {
			return &Fault{Version: env.Version, Code: CodeMustUnderstand,
				String: "header block {" + blk.nsURI() + "}" + blk.local() + " was not understood"}
		}
	}
	return nil
}
