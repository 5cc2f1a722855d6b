// A Go net/http client whose behaviour tests watch with sockwatch. It reports its own truth on
// stdout as JSON lines: one per request (whether net/http reused a pooled connection, from
// httptrace's GotConn) and a final "done" line with its counts. It is real software in the sense
// the tests need: the Transport's pooling, not ours, decides when connections open and close.
//
// Modes:
//   keepalive  read the body to EOF and close it: one pooled connection carries every request
//   undrained  close the body without reading it: net/http cannot reuse the connection, so each
//              request opens a new one that lives well under a millisecond
//   leak       never read nor close the body: connections pile up, and when the server times them
//              out they sit in CLOSE_WAIT until the process exits
//
// -tls trusts any certificate (the test server's is self-signed, made at its start); -h2 lets the
// Transport negotiate HTTP/2 even with its own dialer and TLS config (net/http's rule: a custom
// dialer or TLS config turns HTTP/2 off unless ForceAttemptHTTP2). Each request line says which
// protocol carried it (resp.Proto), so a test knows it got what it asked for.
package main

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"os"
	"sync/atomic"
	"time"
)

func emit(v map[string]interface{}) {
	b, _ := json.Marshal(v)
	os.Stdout.Write(append(b, '\n'))
}

func nowMs() float64 { return float64(time.Now().UnixNano()) / 1e6 }

func main() {
	url := flag.String("url", "", "URL to GET")
	mode := flag.String("mode", "keepalive", "keepalive | undrained | leak")
	interval := flag.Duration("interval", 500*time.Millisecond, "time between request starts (0: back to back)")
	count := flag.Int("count", 0, "stop after this many requests (0: use -duration)")
	duration := flag.Duration("duration", 0, "stop after this long (with -count 0)")
	waitStdin := flag.Bool("wait-stdin", false, "wait for a line on stdin before the first request")
	hold := flag.Duration("hold", 0, "stay alive this long after the last request (after closing idle connections, unless -keep-open)")
	quiet := flag.Bool("quiet", false, "no per-request lines (fast loops)")
	keepOpen := flag.Bool("keep-open", false, "keep idle connections open through -hold (a watcher polls their final counters)")
	useTLS := flag.Bool("tls", false, "accept any server certificate (for https:// URLs to a self-signed test server)")
	h2 := flag.Bool("h2", false, "negotiate HTTP/2 (ForceAttemptHTTP2)")
	flag.Parse()
	if *url == "" {
		fmt.Fprintln(os.Stderr, "-url is required")
		os.Exit(2)
	}

	var dials int64
	dialer := &net.Dialer{Timeout: 5 * time.Second}
	transport := &http.Transport{
		// Count every TCP connection the transport opens: the client's own truth.
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			c, err := dialer.DialContext(ctx, network, addr)
			if err == nil {
				atomic.AddInt64(&dials, 1)
			}
			return c, err
		},
		MaxIdleConnsPerHost: 16,
		IdleConnTimeout:     5 * time.Minute,
		DisableCompression:  true,
		ForceAttemptHTTP2:   *h2,
	}
	if *useTLS {
		transport.TLSClientConfig = &tls.Config{InsecureSkipVerify: true}
	}
	client := &http.Client{Transport: transport}

	emit(map[string]interface{}{"event": "ready", "pid": os.Getpid()})
	if *waitStdin {
		bufio.NewReader(os.Stdin).ReadString('\n')
	}

	var leaked []*http.Response // referenced so nothing collects them
	requests, newConns, reusedConns, failures := 0, 0, 0, 0
	startMs := nowMs()
	deadline := time.Now().Add(*duration)
	next := time.Now()
	for {
		if *count > 0 && requests+failures >= *count {
			break
		}
		if *count == 0 && !time.Now().Before(deadline) {
			break
		}
		if *interval > 0 {
			if d := time.Until(next); d > 0 {
				time.Sleep(d)
			}
			next = next.Add(*interval)
		}
		var reused bool
		var localPort int
		trace := &httptrace.ClientTrace{GotConn: func(info httptrace.GotConnInfo) {
			reused = info.Reused
			if a, ok := info.Conn.LocalAddr().(*net.TCPAddr); ok {
				localPort = a.Port
			}
		}}
		req, _ := http.NewRequestWithContext(httptrace.WithClientTrace(context.Background(), trace), "GET", *url, nil)
		at := nowMs()
		resp, err := client.Do(req)
		if err != nil {
			failures++
			emit(map[string]interface{}{"event": "error", "error": err.Error(), "atMs": at})
			continue
		}
		switch *mode {
		case "keepalive":
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		case "undrained":
			resp.Body.Close()
		case "leak":
			leaked = append(leaked, resp)
		}
		requests++
		if reused {
			reusedConns++
		} else {
			newConns++
		}
		if !*quiet {
			emit(map[string]interface{}{"event": "request", "i": requests, "reused": reused, "localPort": localPort, "status": resp.StatusCode, "proto": resp.Proto, "atMs": at})
		}
	}
	endMs := nowMs()
	if !*keepOpen {
		transport.CloseIdleConnections()
	}
	emit(map[string]interface{}{
		"event": "done", "requests": requests, "failures": failures, "newConnections": newConns,
		"reusedConnections": reusedConns, "dials": atomic.LoadInt64(&dials),
		"startMs": startMs, "endMs": endMs, "leaked": len(leaked),
	})
	time.Sleep(*hold)
}
