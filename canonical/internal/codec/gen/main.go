// Command gen writes canonical's generated JSON encoders (go generate in
// canonical runs it).
package main

import (
	"flag"
	"log"
	"os"

	"github.com/distsync/distsync/canonical/internal/codec"
)

func main() {
	out := flag.String("o", "codec_gen.go", "the file to write")
	flag.Parse()
	src, err := codec.Generate()
	if err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile(*out, src, 0o644); err != nil {
		log.Fatal(err)
	}
}
