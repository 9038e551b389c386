// Seed 000 replayed: HEAD requests from many goroutines through Go's net/http, whose Transport keeps at most
// MaxIdleConnsPerHost idle connections per host and closes the rest after each response. Prints the lab's
// "filled" JSON line at the end: requests answered, failed, and failures by errno.
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

func errnoName(err error) string {
	for _, e := range []struct {
		errno syscall.Errno
		name  string
	}{{syscall.EADDRNOTAVAIL, "EADDRNOTAVAIL"}, {syscall.ECONNREFUSED, "ECONNREFUSED"}, {syscall.ECONNRESET, "ECONNRESET"}, {syscall.ETIMEDOUT, "ETIMEDOUT"}} {
		if errors.Is(err, e.errno) {
			return e.name
		}
	}
	return "EOTHER"
}

func main() {
	url := flag.String("url", "", "server URL")
	workers := flag.Int("workers", 200, "concurrent goroutines")
	requests := flag.Int("requests", 5000, "HEAD requests in all")
	idle := flag.Int("max-idle-per-host", 2, "http.Transport MaxIdleConnsPerHost")
	flag.Parse()
	if *url == "" {
		fmt.Fprintln(os.Stderr, "seed000: --url is required")
		os.Exit(2)
	}
	client := &http.Client{
		Transport: &http.Transport{MaxIdleConns: 10000, MaxIdleConnsPerHost: *idle},
		Timeout:   5 * time.Second,
	}
	var answered, failed int64
	var mu sync.Mutex
	byErrno := map[string]int64{}
	jobs := make(chan struct{}, *requests)
	for i := 0; i < *requests; i++ {
		jobs <- struct{}{}
	}
	close(jobs)
	var wg sync.WaitGroup
	for w := 0; w < *workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range jobs {
				resp, err := client.Head(*url)
				if err != nil {
					atomic.AddInt64(&failed, 1)
					mu.Lock()
					byErrno[errnoName(err)]++
					mu.Unlock()
					continue
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				atomic.AddInt64(&answered, 1)
			}
		}()
	}
	wg.Wait()
	line, _ := json.Marshal(map[string]any{"type": "filled", "established": answered, "failed": failed, "errors": byErrno})
	fmt.Println(string(line))
}
