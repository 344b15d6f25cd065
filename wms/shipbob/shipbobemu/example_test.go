package shipbobemu_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/distsync/distsync/wms/shipbob/shipbobemu"
)

// Example shows the emulator's rate limit as ShipBob answers it: the
// calls left on each answer, then a 429 with x-retry-after.
func Example() {
	now := time.Date(2026, 7, 1, 12, 0, 0, 0, time.UTC)
	emu, _ := shipbobemu.New(shipbobemu.Config{RateLimit: 2, Clock: func() time.Time { return now }})
	srv := httptest.NewServer(emu)
	defer srv.Close()
	for range 3 {
		req, _ := http.NewRequest(http.MethodGet, srv.URL+"/2026-07/location", nil)
		req.Header.Set("Authorization", "Bearer pat")
		resp, err := srv.Client().Do(req)
		if err != nil {
			fmt.Println(err)
			return
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		fmt.Printf("%d x-remaining-calls=%s x-retry-after=%q\n", resp.StatusCode, resp.Header.Get("x-remaining-calls"), resp.Header.Get("x-retry-after"))
		if resp.StatusCode == http.StatusTooManyRequests {
			fmt.Print(string(body))
		}
	}
	// Output:
	// 200 x-remaining-calls=1 x-retry-after=""
	// 200 x-remaining-calls=0 x-retry-after=""
	// 429 x-remaining-calls=0 x-retry-after="60"
	// {"statusCode":429,"message":"Rate limit is exceeded. Try again in 60 seconds."}
}
