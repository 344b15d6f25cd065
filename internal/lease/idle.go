package lease

import (
	"context"
	"fmt"
	"log/slog"
	"time"
)

// IdlePoll is how often [WaitIdle] reads a group's state.
const IdlePoll = 20 * time.Millisecond

// WaitIdle calls busy every IdlePoll until it reports the group idle (""
// and no error) and returns nil. A failing reading is logged at debug
// level and tried again. When ctx is done first it returns an error,
// prefixed with pkg ("eventlog", "jetstream"), naming group and what the
// last successful reading found, wrapping context.Cause(ctx).
func WaitIdle(ctx context.Context, pkg, group string, log *slog.Logger, busy func(context.Context) (string, error)) error {
	t := time.NewTicker(IdlePoll)
	defer t.Stop()
	waiting := "its state not read yet" // what the last full reading found
	for {
		b, err := busy(ctx)
		switch {
		case err != nil && ctx.Err() == nil:
			log.DebugContext(ctx, pkg+": reading the group's state failed; trying again", "group", group, "err", err)
		case err == nil && b == "":
			return nil
		case err == nil:
			waiting = b
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s: group %s not idle: %s: %w", pkg, group, waiting, context.Cause(ctx))
		case <-t.C:
		}
	}
}
