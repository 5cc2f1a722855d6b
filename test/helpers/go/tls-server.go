// An HTTPS server for the tests of Go clients over TLS, HTTP/1.1 and HTTP/2: net/http's own server
// (it negotiates h2 over TLS by itself), with a self-signed ECDSA certificate made in memory at
// start, listening on 127.0.0.1 port 0. It reports its own truth on stdout as JSON lines: its port,
// then one line per connection it accepted and closed and one per request it answered, each with
// the client's port, so a test counts connections and requests per connection from the server's side.
package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"os"
	"sync"
	"time"
)

var outMu sync.Mutex

func emit(v map[string]interface{}) {
	b, _ := json.Marshal(v)
	outMu.Lock()
	os.Stdout.Write(append(b, '\n'))
	outMu.Unlock()
}

func portOf(addr string) int {
	if a, err := net.ResolveTCPAddr("tcp", addr); err == nil {
		return a.Port
	}
	return 0
}

func selfSigned() (tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "127.0.0.1"},
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, err
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, nil
}

func main() {
	cert, err := selfSigned()
	if err != nil {
		fmt.Fprintln(os.Stderr, "certificate:", err)
		os.Exit(1)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, "listen:", err)
		os.Exit(1)
	}
	body := []byte("hello over tls\n")
	srv := &http.Server{
		TLSConfig: &tls.Config{Certificates: []tls.Certificate{cert}},
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Length", fmt.Sprint(len(body)))
			w.Write(body)
			emit(map[string]interface{}{"event": "request", "remotePort": portOf(r.RemoteAddr), "proto": r.Proto})
		}),
		ConnState: func(c net.Conn, s http.ConnState) {
			switch s {
			case http.StateNew:
				emit(map[string]interface{}{"event": "conn", "remotePort": portOf(c.RemoteAddr().String())})
			case http.StateClosed, http.StateHijacked:
				emit(map[string]interface{}{"event": "closed", "remotePort": portOf(c.RemoteAddr().String())})
			}
		},
		ErrorLog: nil,
	}
	emit(map[string]interface{}{"event": "listening", "port": ln.Addr().(*net.TCPAddr).Port})
	// ServeTLS with no files uses TLSConfig.Certificates, and sets up HTTP/2 (ALPN "h2") by itself
	if err := srv.ServeTLS(ln, "", ""); err != nil {
		fmt.Fprintln(os.Stderr, "serve:", err)
		os.Exit(1)
	}
}
