package idempotency

import (
	"context"
	"fmt"
	"log/slog"
	"time"
)

// RunReaper calls r.Reap every interval until ctx is done, then returns
// ctx's cause. It is the reaper of a store without a goroutine of its own,
// such as [SQLStore]; run it in a goroutine you own:
//
//	go idempotency.RunReaper(ctx, store, time.Minute, logger)
//
// A failed Reap is logged to logger (nil discards) and tried again at the
// next tick: expired records count as absent anyway, so reaping late only
// costs space. An interval that is not positive returns an error matching
// [ErrInvalidConfig] at once.
func RunReaper(ctx context.Context, r Reaper, interval time.Duration, logger *slog.Logger) error {
	if interval <= 0 {
		return fmt.Errorf("idempotency: RunReaper interval %v is not positive: %w", interval, ErrInvalidConfig)
	}
	log := loggerOrDiscard(logger)
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return context.Cause(ctx)
		case <-t.C:
			n, err := r.Reap(ctx)
			if err != nil {
				if ctx.Err() != nil {
					return context.Cause(ctx)
				}
				log.LogAttrs(ctx, slog.LevelWarn, "idempotency: reaping expired records failed", slog.Any("error", err))
				continue
			}
			log.LogAttrs(ctx, slog.LevelDebug, "idempotency: reaped expired records", slog.Int("deleted", n))
		}
	}
}
