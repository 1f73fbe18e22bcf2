// A receiver for CloudKeep Webhooks deliveries, on Go's standard library only (net/http, crypto/hmac).
// Run: WEBHOOK_SECRET=whsec_… [WEBHOOK_SCHEME=cloudkeep|standard] [PORT=8080] [HOST=127.0.0.1] go run main.go
// Answers 200 to a delivery whose signature verifies and 400 to anything else; prints one JSON line per request.
package main

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"math"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

const toleranceSeconds = 5 * 60 // Standard Webhooks: refuse a webhook-timestamp further than this from our clock
const maxBodyBytes = 1024 * 1024

var secret = os.Getenv("WEBHOOK_SECRET")

// standardKey is what Standard Webhooks keys the HMAC with: the secret's bytes, `whsec_` dropped, the rest base64-decoded.
var standardKey []byte

// verifyCloudKeep checks X-CloudKeep-Signature-256: `sha256=` + hex HMAC-SHA256 of the raw body, keyed with the secret string.
func verifyCloudKeep(header http.Header, body []byte) string {
	signature := header.Get("X-CloudKeep-Signature-256")
	if signature == "" {
		return "missing X-CloudKeep-Signature-256"
	}
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	expected := "sha256=" + hex.EncodeToString(mac.Sum(nil))
	// Constant-time comparison: how long it takes must not tell an attacker how much of a forgery was right.
	if !hmac.Equal([]byte(signature), []byte(expected)) {
		return "signature mismatch"
	}
	return ""
}

// verifyStandard checks Standard Webhooks: `v1,` + base64 HMAC-SHA256 of `id.timestamp.body`, keyed with standardKey.
func verifyStandard(header http.Header, body []byte) string {
	id, timestamp, signatures := header.Get("webhook-id"), header.Get("webhook-timestamp"), header.Get("webhook-signature")
	if id == "" || timestamp == "" || signatures == "" {
		return "missing webhook-id, webhook-timestamp or webhook-signature"
	}
	seconds, err := strconv.ParseInt(timestamp, 10, 64)
	if err != nil || seconds < 0 {
		return "webhook-timestamp is not a number"
	}
	if math.Abs(float64(time.Now().Unix()-seconds)) > toleranceSeconds {
		return "webhook-timestamp too old or too new"
	}
	mac := hmac.New(sha256.New, standardKey)
	mac.Write([]byte(id + "." + timestamp + "."))
	mac.Write(body)
	expected := "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil))
	// The header is a space-separated list; any one matching is enough.
	for _, signature := range strings.Split(signatures, " ") {
		if hmac.Equal([]byte(signature), []byte(expected)) {
			return ""
		}
	}
	return "signature mismatch"
}

// handled holds the event ids already handled: a retry, a redelivery or a replayed request is acknowledged, not acted on twice.
var handled = struct {
	sync.Mutex
	ids map[string]bool
}{ids: map[string]bool{}}

func handle(scheme string, r *http.Request) (int, map[string]string) {
	if r.Method != http.MethodPost {
		return http.StatusMethodNotAllowed, map[string]string{"rejected": "POST only"}
	}
	body, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, maxBodyBytes))
	if err != nil {
		return http.StatusRequestEntityTooLarge, map[string]string{"rejected": "body too large"}
	}
	var problem string
	if scheme == "standard" {
		problem = verifyStandard(r.Header, body)
	} else {
		problem = verifyCloudKeep(r.Header, body)
	}
	if problem != "" {
		return http.StatusBadRequest, map[string]string{"rejected": problem}
	}
	var event struct {
		ID    string `json:"id"`
		Event string `json:"event"`
	}
	if err := json.Unmarshal(body, &event); err != nil { // parsed only now that the bytes are known to be ours
		return http.StatusBadRequest, map[string]string{"rejected": "body is not JSON"}
	}
	handled.Lock()
	defer handled.Unlock()
	if handled.ids[event.ID] {
		return http.StatusOK, map[string]string{"duplicate": event.ID}
	}
	handled.ids[event.ID] = true
	// Act on the event here (queue it, preferably: answer within 10 seconds or the delivery counts as failed).
	return http.StatusOK, map[string]string{"accepted": event.ID, "event": event.Event}
}

func main() {
	scheme, host, port := os.Getenv("WEBHOOK_SCHEME"), os.Getenv("HOST"), os.Getenv("PORT")
	if scheme == "" {
		scheme = "cloudkeep"
	}
	if host == "" {
		host = "127.0.0.1"
	}
	if port == "" {
		port = "8080"
	}
	if secret == "" {
		log.Fatal("Set WEBHOOK_SECRET to the webhook secret shown when the webhook was created")
	}
	if scheme != "cloudkeep" && scheme != "standard" {
		log.Fatal("WEBHOOK_SCHEME must be cloudkeep or standard")
	}
	if scheme == "standard" {
		key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
		if err != nil {
			log.Fatal("WEBHOOK_SECRET is not whsec_ followed by base64")
		}
		standardKey = key
	}
	listener, err := net.Listen("tcp", net.JoinHostPort(host, port))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("{\"listening\":%d,\"scheme\":%q}\n", listener.Addr().(*net.TCPAddr).Port, scheme)
	log.Fatal(http.Serve(listener, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		status, result := handle(scheme, r)
		line, _ := json.Marshal(result)
		fmt.Println(string(line))
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		w.Write(line)
	})))
}
