package web

import (
	"bytes"
	"io"
	"mime"
	"mime/quotedprintable"
	"net/mail"
)

// readableMail splits a raw mail into its main header fields (decoded
// from RFC 2047) and its text body (decoded from quoted-printable), for
// reading in the console; a mail that does not parse is shown raw.
func readableMail(raw []byte) ([][2]string, string) {
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return nil, string(raw)
	}
	dec := new(mime.WordDecoder)
	var hdr [][2]string
	for _, k := range []string{"Date", "From", "To", "Reply-To", "Subject", "Message-ID"} {
		v := msg.Header.Get(k)
		if d, err := dec.DecodeHeader(v); err == nil {
			v = d
		}
		if v != "" {
			hdr = append(hdr, [2]string{k, v})
		}
	}
	var body io.Reader = io.LimitReader(msg.Body, 1<<20)
	if msg.Header.Get("Content-Transfer-Encoding") == "quoted-printable" {
		body = quotedprintable.NewReader(body)
	}
	b, err := io.ReadAll(body)
	if err != nil {
		return hdr, string(raw)
	}
	return hdr, string(b)
}

// mailHeader is readableMail's header alone.
func mailHeader(raw []byte) [][2]string {
	h, _ := readableMail(raw)
	return h
}
