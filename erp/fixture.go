package erp

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/distsync/distsync/canonical"
)

// fixture is the JSON form of a Config. A member that is absent is nil
// (the demo data); an empty array is "none".
type fixture struct {
	Accounts          []Account                     `json:"accounts,omitzero"`
	Items             []canonical.Item              `json:"items,omitzero"`
	Prices            []Price                       `json:"prices,omitzero"`
	TaxRates          []TaxRate                     `json:"taxRates,omitzero"`
	Stock             []canonical.InventoryPosition `json:"stock,omitzero"`
	LeadTime          string                        `json:"leadTime,omitempty"`
	BackorderLeadTime string                        `json:"backorderLeadTime,omitempty"`
}

// MarshalJSON encodes the configuration as a JSON fixture: the members
// accounts, items, prices, taxRates and stock (left out when nil, so that
// the fixture keeps meaning the demo data) and the lead times as Go
// duration strings ("48h0m0s"). Clock is not encoded.
func (c Config) MarshalJSON() ([]byte, error) {
	f := fixture{Accounts: c.Accounts, Items: c.Items, Prices: c.Prices, TaxRates: c.TaxRates, Stock: c.Stock}
	if c.LeadTime != 0 {
		f.LeadTime = c.LeadTime.String()
	}
	if c.BackorderLeadTime != 0 {
		f.BackorderLeadTime = c.BackorderLeadTime.String()
	}
	return json.Marshal(f)
}

// UnmarshalJSON decodes a JSON fixture as written by [Config.MarshalJSON].
// It is strict: an unknown member, a second JSON value or a malformed
// duration is an error. It does not validate the result; [ParseConfig]
// does. Clock is left as it was.
func (c *Config) UnmarshalJSON(data []byte) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var f fixture
	if err := dec.Decode(&f); err != nil {
		return fixtureError(data, err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return fmt.Errorf("%w: fixture: data after the JSON object", ErrInvalidConfig)
	}
	lead, err := parseDuration("leadTime", f.LeadTime)
	if err != nil {
		return err
	}
	back, err := parseDuration("backorderLeadTime", f.BackorderLeadTime)
	if err != nil {
		return err
	}
	c.Accounts, c.Items, c.Prices, c.TaxRates, c.Stock = f.Accounts, f.Items, f.Prices, f.TaxRates, f.Stock
	c.LeadTime, c.BackorderLeadTime = lead, back
	return nil
}

// ParseConfig decodes a JSON fixture (see [Config.MarshalJSON]) and
// validates it. Errors match [ErrInvalidConfig] and name the member or the entry
// at fault.
func ParseConfig(data []byte) (Config, error) {
	var c Config
	if err := c.UnmarshalJSON(data); err != nil {
		return Config{}, err
	}
	if err := c.Validate(); err != nil {
		return Config{}, err
	}
	return c, nil
}

func parseDuration(field, s string) (time.Duration, error) {
	if s == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("%w: fixture: %s: %q is not a duration such as \"48h\"", ErrInvalidConfig, field, s)
	}
	return d, nil
}

// fixtureError turns a JSON decoding error into one naming the member or
// the position.
func fixtureError(data []byte, err error) error {
	var te *json.UnmarshalTypeError
	var se *json.SyntaxError
	switch {
	case errors.As(err, &te):
		return fmt.Errorf("%w: fixture: %s: cannot use a JSON %s here", ErrInvalidConfig, te.Field, te.Value)
	case errors.As(err, &se):
		line, col := lineCol(data, se.Offset)
		return fmt.Errorf("%w: fixture: malformed JSON at line %d, column %d: %w", ErrInvalidConfig, line, col, err)
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return fmt.Errorf("%w: fixture: unexpected end of JSON", ErrInvalidConfig)
	}
	return fmt.Errorf("%w: fixture: %w", ErrInvalidConfig, err)
}

// lineCol returns the 1-based line and column of a byte offset.
func lineCol(data []byte, off int64) (line, col int) {
	line, col = 1, 1
	for i := 0; i < len(data) && int64(i) < off-1; i++ {
		if data[i] == '\n' {
			line, col = line+1, 1
		} else {
			col++
		}
	}
	return line, col
}
