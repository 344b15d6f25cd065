package retry_test

import (
	"context"
	"testing"
	"time"

	"github.com/distsync/distsync/retry"
)

func BenchmarkDo(b *testing.B) {
	ctx := context.Background()
	op := func(context.Context) (int, error) { return 1, nil }
	b.Run("bare", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := op(ctx); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("first-attempt-succeeds", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := retry.Do(ctx, retry.Policy{}, op); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("first-attempt-succeeds-with-policy", func(b *testing.B) {
		b.ReportAllocs()
		p := retry.Policy{MaxAttempts: 3, MaxElapsed: time.Minute}
		for b.Loop() {
			if _, err := retry.Do(ctx, p, op); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := retry.Do(ctx, retry.Policy{}, op); err != nil {
					b.Fatal(err)
				}
			}
		})
	})
}

func BenchmarkBreakerDo(b *testing.B) {
	br, err := retry.NewBreaker(retry.BreakerConfig{FailureRatio: 0.5})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	fn := func(context.Context) error { return nil }
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := br.Do(ctx, fn); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkParseRetryAfter(b *testing.B) {
	now := time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)
	for _, v := range []string{"120", "Fri, 27 Nov 2026 09:05:00 GMT"} {
		b.Run(v, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := retry.ParseRetryAfter(v, now); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
