package kit_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsync/distsync/internal/kit"
)

func TestRun(t *testing.T) {
	tests := []struct {
		name  string
		check func(t kit.T)
		want  string // "" means no error
	}{
		{"pass", func(kit.T) {}, ""},
		{"errorf continues", func(t kit.T) {
			t.Errorf("first %d", 1)
			t.Errorf("second")
		}, "c: first 1\nc: second"},
		{"fatalf stops", func(t kit.T) {
			t.Fatalf("stop")
			t.Errorf("not reached")
		}, "c: stop"},
		{"require stops", func(t kit.T) {
			require.Equal(t, 1, 2, "numbers")
			t.Errorf("not reached")
		}, "c: \n\tError Trace:"},
		{"contract quotes its sentence", func(t kit.T) {
			t = kit.Contract(t, "A read returns what was written.")
			t.Errorf("got %d", 1)
			kit.Sub(t, "inner", func(t kit.T) { t.Fatalf("bad") })
		}, "c: contract \"A read returns what was written.\" broken: got 1\nc/inner: contract \"A read returns what was written.\" broken: bad"},
		{"contract through require", func(t kit.T) {
			require.Equal(kit.Contract(t, "One is two."), 1, 2, "numbers")
		}, "c: contract \"One is two.\" broken: \n\tError Trace:"},
		{"panic is a failure", func(kit.T) { panic("boom") }, "c: panic: boom"},
		{"skip is no failure", func(t kit.T) {
			t.Skipf("not here")
			t.Errorf("not reached")
		}, ""},
		{"sub names its failures", func(t kit.T) {
			ok := kit.Sub(t, "inner", func(t kit.T) { t.Fatalf("bad") })
			assert.False(t, ok, "Sub of a failing check")
			assert.True(t, t.Failed(), "parent of a failed subcheck")
			assert.True(t, kit.Sub(t, "fine", func(kit.T) {}), "Sub of a passing check")
		}, "c/inner: bad"},
	}
	for _, tt := range tests {
		err := kit.Run("c", tt.check)
		if tt.want == "" {
			assert.NoError(t, err, tt.name)
			continue
		}
		require.Error(t, err, tt.name)
		if tt.name == "require stops" || tt.name == "contract through require" {
			assert.Contains(t, err.Error(), tt.want, tt.name)
			assert.NotContains(t, err.Error(), "not reached", tt.name)
			continue
		}
		assert.Equal(t, tt.want, err.Error(), tt.name)
	}
}

func TestRunCleanups(t *testing.T) {
	var order []string
	err := kit.Run("c", func(t kit.T) {
		ctx := t.Context()
		t.Cleanup(func() {
			order = append(order, "first registered")
			assert.Error(t, ctx.Err(), "the context is cancelled before the clean-ups")
		})
		t.Cleanup(func() { order = append(order, "second registered") })
		t.FailNow()
	})
	require.Error(t, err, "a check that called FailNow")
	assert.Equal(t, []string{"second registered", "first registered"}, order, "clean-ups run last first")
}

func TestSubInATest(t *testing.T) {
	ran := false
	kit.Sub(t, "inner", func(st kit.T) {
		ran = true
		assert.Equal(t, t.Name()+"/inner", st.Name(), "a subcheck of a *testing.T is a subtest")
	})
	assert.True(t, ran, "the subtest ran")
}
