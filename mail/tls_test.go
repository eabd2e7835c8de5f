package mail

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net"
	"strings"
	"testing"
	"time"
)

// selfSigned makes a certificate for 127.0.0.1 and a client config that trusts it.
func selfSigned(t *testing.T) (server, client *tls.Config) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "catcher test"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IsCA:         true, BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	server = &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}
	client = &tls.Config{RootCAs: pool}
	return server, client
}

func TestSendOverTLS(t *testing.T) {
	serverTLS, clientTLS := selfSigned(t)
	msg := Message{To: "pat@example.com", Subject: "Hi", Text: "x", HTML: "<p>x</p>"}
	for _, tc := range []struct {
		name     string
		implicit bool
		url      string
	}{
		{"STARTTLS required (smtp:// default)", false, "smtp://mailer:" + secret + "@%s"},
		{"STARTTLS optional, offered", false, "smtp://%s?starttls=optional"},
		{"implicit TLS (smtps://)", true, "smtps://mailer:" + secret + "@%s"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := StartCatcherTLS("127.0.0.1:0", serverTLS, tc.implicit)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			url := strings.Replace(tc.url, "%s", c.Addr(), 1)
			s, err := NewSender(Config{URL: url, From: "verify@acme.example", TLSConfig: clientTLS, Timeout: 5 * time.Second})
			if err != nil {
				t.Fatal(err)
			}
			if err := s.Send(context.Background(), msg); err != nil {
				t.Fatalf("%v (%s)", err, Explain(err))
			}
			m := c.Messages()[0]
			if !m.TLS {
				t.Error("sent without TLS")
			}
			if strings.Contains(url, "mailer") && m.AuthUser != "mailer" {
				t.Errorf("signed in as %q", m.AuthUser)
			}

			// Without trusting the certificate, it is refused, transiently, in words.
			untrusting, _ := NewSender(Config{URL: url, From: "verify@acme.example", Timeout: 5 * time.Second})
			err = untrusting.Send(context.Background(), msg)
			if err == nil || IsPermanent(err) || !strings.HasPrefix(Explain(err), "Could not set up a secure connection") {
				t.Errorf("untrusted certificate: %v / %q", err, Explain(err))
			}
			if strings.Contains(Explain(err), secret) {
				t.Error("password shown")
			}
			if c.Count() != 1 {
				t.Errorf("caught %d", c.Count())
			}
		})
	}
}
