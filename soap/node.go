package soap

import (
	"strconv"
	"strings"

	"github.com/beevik/etree"
)

// xnode is an element as the envelope's readers need it, whichever reader made it: etree's tree (Read) or the
// streaming reader's lighter one (ReadStream). The checks that run on a request (the envelope's shape, the
// mustUnderstand headers, WS-Security, the operation's parameters) are written once, on this.
type xnode interface {
	local() string                      // the local name
	nsURI() string                      // the namespace URI, resolved as etree resolves it
	elems() []xnode                     // element children, in order
	attr(key string) (string, bool)     // the first unqualified attribute key
	mustUnderstand(envNS string) string // the last mustUnderstand attribute in namespace envNS, or ""
	text() string                       // character data before the first child that is neither text nor a comment
	onlyText() bool                     // no child but character data and comments
}

// leafText returns el's character data (text and CDATA; comments are skipped), refusing any other content and
// text longer than max bytes.
func leafText(el xnode, max int, fault func(string) error) (string, error) {
	t := el.text()
	if len(t) > max {
		return "", fault("the " + el.local() + " is longer than " + strconv.Itoa(max) + " bytes")
	}
	if !el.onlyText() {
		return "", fault("the " + el.local() + " must contain text only")
	}
	return t, nil
}

// etreeNode adapts an etree element.
type etreeNode struct{ e *etree.Element }

func (n etreeNode) local() string { return n.e.Tag }
func (n etreeNode) nsURI() string { return n.e.NamespaceURI() }

func (n etreeNode) elems() []xnode {
	var out []xnode
	for _, c := range n.e.ChildElements() {
		out = append(out, etreeNode{c})
	}
	return out
}

func (n etreeNode) attr(key string) (string, bool) {
	for _, a := range n.e.Attr {
		if a.Space == "" && a.Key == key {
			return a.Value, true
		}
	}
	return "", false
}

func (n etreeNode) mustUnderstand(envNS string) string {
	mu := ""
	for _, a := range n.e.Attr {
		if a.Key == "mustUnderstand" && a.NamespaceURI() == envNS {
			mu = a.Value
		}
	}
	return mu
}

func (n etreeNode) text() string {
	var b strings.Builder
	for _, tok := range n.e.Child {
		switch t := tok.(type) {
		case *etree.CharData:
			b.WriteString(t.Data)
		case *etree.Comment:
		default:
			return b.String()
		}
	}
	return b.String()
}

func (n etreeNode) onlyText() bool {
	for _, tok := range n.e.Child {
		switch tok.(type) {
		case *etree.CharData, *etree.Comment:
		default:
			return false
		}
	}
	return true
}
