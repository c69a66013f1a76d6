package soap

import (
	"encoding/xml"
	"errors"
	"io"
	"net/http"
	"strings"

	"github.com/beevik/etree"
)

// ReadStream is Read without etree: it tokenizes the envelope with encoding/xml's RawToken, as etree does with
// the same decoder settings, and keeps a light tree (names, the attributes, the text before the first child
// element) instead of etree's. It accepts and refuses exactly what Read does (FuzzReadStream compares them) and
// answers the same to the Envelope's methods and UsernameTokenFrom, but the Envelope's Header and Body are nil:
// it is for endpoints whose handlers read the envelope only through those (the Spectrum token services).
// The bounds are Read's: the body size (the caller's MaxBytesReader), MaxDepth, XML's predefined entities only
// (no DTD), and work linear in the size.
func ReadStream(r io.Reader, contentType string) (*Envelope, error) {
	root, err := streamTree(r)
	if err != nil {
		if errors.Is(err, etree.ErrMaxDepth) {
			return nil, ClientFault(V11, "XML nested too deeply")
		}
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, &Fault{Version: V11, Code: CodeClient, String: "request body too large", Status: http.StatusRequestEntityTooLarge}
		}
		if errors.Is(err, errDirective) {
			return nil, ClientFault(V11, "a SOAP message must not contain a document type declaration")
		}
		return nil, ClientFault(V11, "malformed XML: "+err.Error())
	}
	if root == nil {
		return nil, ClientFault(V11, "the document is not a SOAP Envelope")
	}
	return envelopeOf(root, contentType)
}

var errDirective = errors.New("directive at the top level")

// snode is an element of the streaming reader's tree.
type snode struct {
	parent      *snode
	space, name string
	attrs       []xml.Attr      // duplicates merged as etree merges them: the first place, the last value
	kids        []xnode         // element children (each a *snode)
	txt         strings.Builder // character data before the first child that is neither text nor a comment
	mixed       bool            // a child other than text and comments came
	ns          string
}

func (n *snode) local() string { return n.name }
func (n *snode) nsURI() string { return n.ns }

func (n *snode) elems() []xnode { return n.kids } // callers only read it

func (n *snode) attr(key string) (string, bool) {
	for _, a := range n.attrs {
		if a.Name.Space == "" && a.Name.Local == key {
			return a.Value, true
		}
	}
	return "", false
}

func (n *snode) mustUnderstand(envNS string) string {
	mu := ""
	for _, a := range n.attrs {
		if a.Name.Local == "mustUnderstand" && a.Name.Space != "" && n.prefixURI(a.Name.Space) == envNS {
			mu = a.Value
		}
	}
	return mu
}

func (n *snode) text() string   { return n.txt.String() }
func (n *snode) onlyText() bool { return !n.mixed }

// prefixURI resolves prefix as etree does: the nearest element, from n up, that declares it.
func (n *snode) prefixURI(prefix string) string {
	for e := n; e != nil; e = e.parent {
		for _, a := range e.attrs {
			if a.Name.Space == "xmlns" && a.Name.Local == prefix {
				return a.Value
			}
		}
	}
	return ""
}

// defaultURI resolves the default namespace as etree does.
func (n *snode) defaultURI() string {
	for e := n; e != nil; e = e.parent {
		for _, a := range e.attrs {
			if a.Name.Space == "" && a.Name.Local == "xmlns" {
				return a.Value
			}
		}
	}
	return ""
}

// streamTree reads the whole document, with etree's decoder settings and checks, and returns its first
// top-level element (nil if none).
func streamTree(r io.Reader) (*snode, error) {
	dec := xml.NewDecoder(r)
	dec.CharsetReader = func(_ string, input io.Reader) (io.Reader, error) { return input, nil } // as etree
	dec.Strict = true
	var root *snode
	var top *snode // the open element; nil at the top level
	depth := 1     // etree counts the document itself
	directive := false
	for {
		t, err := dec.RawToken()
		switch {
		case err == io.EOF:
			if top != nil {
				return nil, etree.ErrXML
			}
			if directive {
				return nil, errDirective
			}
			return root, nil
		case err != nil:
			return nil, err
		}
		switch t := t.(type) {
		case xml.StartElement:
			if depth > MaxDepth {
				return nil, etree.ErrMaxDepth
			}
			e := &snode{parent: top, space: t.Name.Space, name: t.Name.Local, attrs: mergeAttrs(t.Attr)}
			if e.space == "" {
				e.ns = e.defaultURI()
			} else {
				e.ns = e.prefixURI(e.space)
			}
			if top != nil {
				top.kids = append(top.kids, e)
				top.mixed = true
			} else if root == nil {
				root = e
			}
			top = e
			depth++
		case xml.EndElement:
			if top == nil || top.name != t.Name.Local || top.space != t.Name.Space {
				return nil, etree.ErrXML
			}
			top = top.parent
			depth--
		case xml.CharData:
			if top != nil && !top.mixed {
				top.txt.Write(t)
			}
		case xml.Comment:
		case xml.Directive:
			if top == nil {
				directive = true
			} else {
				top.mixed = true
			}
		case xml.ProcInst:
			if top != nil {
				top.mixed = true
			}
		}
	}
}

// mergeAttrs merges attributes of the same name as etree does: the first one's place, the last one's value.
// Many attributes go through a map, so that a hostile element with thousands costs linear time.
func mergeAttrs(attrs []xml.Attr) []xml.Attr {
	if len(attrs) < 2 {
		return attrs
	}
	out := make([]xml.Attr, 0, len(attrs))
	var at map[xml.Name]int
	if len(attrs) > 8 {
		at = make(map[xml.Name]int, len(attrs))
	}
	for _, a := range attrs {
		i := -1
		if at != nil {
			if j, ok := at[a.Name]; ok {
				i = j
			}
		} else {
			for j := range out {
				if out[j].Name == a.Name {
					i = j
					break
				}
			}
		}
		if i >= 0 {
			out[i].Value = a.Value
			continue
		}
		if at != nil {
			at[a.Name] = len(out)
		}
		out = append(out, a)
	}
	return out
}
