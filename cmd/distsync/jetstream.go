package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/distsync/distsync/eventlog/jetstream"
)

// This file opens a flow's store on NATS JetStream (-db nats://...).

// jsNames names the stream and buckets of a JetStream store (-stream,
// -kv-prefix, -flow-bucket); empty names are the jetstream package's
// defaults.
type jsNames struct {
	stream, kvPrefix, flowBucket string
}

// isNATS reports whether dsn names a NATS server.
func isNATS(dsn string) bool {
	for _, p := range []string{"nats://", "tls://", "ws://", "wss://"} {
		if strings.HasPrefix(dsn, p) {
			return true
		}
	}
	return false
}

// openJetStream opens the event log and flow state a flow keeps on
// JetStream, as they are (jetstream.Config.Existing): the CLI neither
// creates a store that is not there nor changes the settings of one that
// is. A stream or bucket that is not there is named with the flag that
// names it.
func (e *env) openJetStream(dsn string, n jsNames) error {
	ctx, cancel := context.WithTimeout(e.ctx, 10*time.Second)
	defer cancel()
	b, err := jetstream.Open(ctx, jetstream.Config{URL: dsn, Stream: n.stream, BucketPrefix: n.kvPrefix, Existing: true})
	if err != nil {
		return jsOpenError(dsn, "-kv-prefix", err)
	}
	e.closers = append(e.closers, b.Close)
	fs, err := jetstream.NewFlowState(ctx, jetstream.FlowStateConfig{URL: dsn, Bucket: n.flowBucket, Existing: true})
	if err != nil {
		return jsOpenError(dsn, "-flow-bucket", err)
	}
	e.closers = append(e.closers, fs.Close)
	e.log, e.state = b, fs
	return nil
}

// jsOpenError returns err of opening the JetStream store at dsn, naming
// a missing stream with -stream and a missing bucket with bucketFlag,
// without the URL's password.
func jsOpenError(dsn, bucketFlag string, err error) error {
	var nf *jetstream.NotFoundError
	if errors.As(err, &nf) {
		flag := bucketFlag
		if nf.Kind == "stream" {
			flag = "-stream"
		}
		return fmt.Errorf("%s: %s %s (%s): %w", redact(dsn), nf.Kind, nf.Name, flag, nf.Err)
	}
	// The package's errors may quote the URL.
	return fmt.Errorf("%s: %s", redact(dsn), strings.ReplaceAll(err.Error(), dsn, redact(dsn)))
}
