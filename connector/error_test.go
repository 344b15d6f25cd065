package connector_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/distsync/distsync/canonical"
	"github.com/distsync/distsync/connector"
	"github.com/distsync/distsync/retry"
)

func TestCodeOf(t *testing.T) {
	inner := connector.NewError(connector.CodeRateLimited, "erp", "AcceptOrder", nil, connector.WithRetryAfter(2*time.Second))
	tests := []struct {
		name string
		err  error
		want connector.Code
	}{
		{"nil", nil, connector.CodeUnknown},
		{"plain error", errors.New("boom"), connector.CodeUnknown},
		{"context", context.Canceled, connector.CodeUnknown},
		{"direct", inner, connector.CodeRateLimited},
		{"wrapped", fmt.Errorf("flow: accept: %w", inner), connector.CodeRateLimited},
		{"joined", errors.Join(errors.New("x"), connector.NewError(connector.CodeNotFound, "wms", "Release", nil)), connector.CodeNotFound},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, connector.CodeOf(tt.err), tt.name)
	}
}

func TestCodeClassification(t *testing.T) {
	tests := []struct {
		code      connector.Code
		name      string
		transient bool
	}{
		{connector.CodeUnknown, "unknown", false},
		{connector.CodeInvalid, "invalid", false},
		{connector.CodeNotFound, "not_found", false},
		{connector.CodeConflict, "conflict", false},
		{connector.CodeUnauthorized, "unauthorized", false},
		{connector.CodeRateLimited, "rate_limited", true},
		{connector.CodeUnavailable, "unavailable", true},
		{connector.CodeTimeout, "timeout", true},
		{connector.CodeInternal, "internal", false},
		{connector.Code(200), "code(200)", false},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.name, tt.code.String())
		assert.Equal(t, tt.transient, tt.code.Transient(), tt.name)
		e := connector.NewError(tt.code, "", "", nil)
		assert.Equal(t, tt.transient, e.Retryable(), tt.name)
	}
}

func TestErrorMethods(t *testing.T) {
	ve := &canonical.ValidationError{Kind: "order", Errors: []canonical.FieldError{{Field: "lines[0].item.sku", Message: "unknown item"}}}
	err := connector.NewError(connector.CodeInvalid, "erp", "ValidateOrder", ve)
	assert.Equal(t, "connector: erp ValidateOrder: invalid: canonical: invalid order: lines[0].item.sku: unknown item", err.Error())
	assert.ErrorIs(t, err, canonical.ErrInvalid, "unwraps to the validation error")
	var got *canonical.ValidationError
	assert.ErrorAs(t, err, &got)

	to := connector.NewError(connector.CodeTimeout, "erp", "PostShipment", nil, connector.WithMayHaveApplied(true))
	assert.True(t, to.MayHaveApplied())
	assert.Equal(t, "connector: erp PostShipment: timeout (may have been applied)", to.Error())

	rl := connector.NewError(connector.CodeRateLimited, "", "", nil, connector.WithRetryAfter(3*time.Second))
	assert.Equal(t, 3*time.Second, rl.RetryAfter())
	assert.Equal(t, "connector: rate_limited (retry after 3s)", rl.Error())

	// CodeOf is the one way to ask the code: errors.Is does not match
	// another *Error of the same code.
	assert.Equal(t, connector.CodeTimeout, connector.CodeOf(fmt.Errorf("w: %w", to)))
	assert.NotErrorIs(t, to, connector.NewError(connector.CodeTimeout, "erp", "PostShipment", nil, connector.WithMayHaveApplied(true)))
	assert.ErrorIs(t, fmt.Errorf("w: %w", to), to, "the same *Error still matches itself")
}

func ExampleCodeOf() {
	err := fmt.Errorf("accept order SO-1: %w", connector.NewError(connector.CodeRateLimited, "erp", "AcceptOrder", nil, connector.WithRetryAfter(2*time.Second)))
	fmt.Println(connector.CodeOf(err), connector.CodeOf(err).Transient())
	fmt.Println(connector.CodeOf(errors.New("no code")), connector.CodeOf(nil))
	// Output:
	// rate_limited true
	// unknown unknown
}

func TestRetryHonoursCodes(t *testing.T) {
	tests := []struct {
		err       *connector.Error
		policy    retry.Policy
		wantCalls int
	}{
		{connector.NewError(connector.CodeInvalid, "", "", nil), retry.Policy{}, 1},
		{connector.NewError(connector.CodeNotFound, "", "", nil), retry.Policy{}, 1},
		{connector.NewError(connector.CodeInternal, "", "", nil), retry.Policy{}, 1},
		{connector.NewError(connector.CodeUnavailable, "", "", nil), retry.Policy{}, 2},
		{connector.NewError(connector.CodeRateLimited, "", "", nil, connector.WithRetryAfter(time.Second)), retry.Policy{}, 2},
		{connector.NewError(connector.CodeTimeout, "", "", nil, connector.WithMayHaveApplied(true)), retry.Policy{}, 1},
		{connector.NewError(connector.CodeTimeout, "", "", nil, connector.WithMayHaveApplied(true)), retry.Policy{Idempotent: true}, 2},
	}
	for _, tt := range tests {
		synctest.Test(t, func(t *testing.T) {
			calls := 0
			_, _ = retry.Do(t.Context(), tt.policy, func(context.Context) (int, error) {
				calls++
				if calls == 1 {
					return 0, tt.err
				}
				return 1, nil
			})
			assert.Equal(t, tt.wantCalls, calls, "calls for %v", tt.err)
		})
	}
}

func TestNewError(t *testing.T) {
	cause := errors.New("socket closed")
	err := connector.NewError(connector.CodeUnavailable, "erp", "ValidateOrder", cause)
	assert.Equal(t, connector.CodeUnavailable, err.Code())
	assert.Equal(t, "erp", err.System())
	assert.Equal(t, "ValidateOrder", err.Op())
	assert.False(t, err.MayHaveApplied())
	assert.Zero(t, err.RetryAfter())
	assert.Same(t, cause, err.Unwrap())

	opts := connector.NewError(connector.CodeTimeout, "wms", "Release", nil,
		connector.WithRetryAfter(2*time.Second), connector.WithMayHaveApplied(true))
	assert.Equal(t, connector.CodeTimeout, opts.Code())
	assert.True(t, opts.MayHaveApplied())
	assert.Equal(t, 2*time.Second, opts.RetryAfter())
	assert.NoError(t, opts.Unwrap())
	assert.Equal(t, "connector: wms Release: timeout (may have been applied) (retry after 2s)", opts.Error())
	assert.ErrorIs(t, err, cause, "NewError wraps its cause")
	assert.Equal(t, "connector: erp ValidateOrder: unavailable", connector.NewError(connector.CodeUnavailable, "erp", "ValidateOrder", nil).Error(),
		"NewError with a nil cause")
}
