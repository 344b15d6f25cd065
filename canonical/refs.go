package canonical

import (
	"strconv"
	"strings"
)

// ExternalRef is the identity of an entity in one system: the ERP's sales
// order number, the CRM's opportunity ID, the WMS's shipment ID. Every
// canonical entity carries the refs of each system that knows it, so
// connectors map IDs without guessing. The zero value is not valid
// ([ExternalRef.Validate]). It is a plain value, safe for concurrent reads.
type ExternalRef struct {
	// System names the system, such as "erp", "crm", "wms" or "sap-prod".
	System string `json:"system"`
	// Type names the kind of entity in that system, such as "salesOrder".
	Type string `json:"type"`
	// Value is the ID in that system.
	Value string `json:"value"`
	// Version is the entity's version or ETag in that system, if it has one.
	Version string `json:"version,omitempty"`
}

// Validate checks that system, type and value are set.
func (r ExternalRef) Validate() error {
	v := violations{kind: "external ref"}
	if strings.TrimSpace(r.System) == "" {
		v.add("system", "is required")
	}
	if strings.TrimSpace(r.Type) == "" {
		v.add("type", "is required")
	}
	if r.Value == "" {
		v.add("value", "is required")
	}
	return v.err()
}

// String returns "system:type:value", with "@version" when there is one.
func (r ExternalRef) String() string {
	s := r.System + ":" + r.Type + ":" + r.Value
	if r.Version != "" {
		s += "@" + r.Version
	}
	return s
}

// Refs is the set of external references of one entity. At most one ref per
// (system, type) pair is allowed. The zero value (nil) is a valid empty
// set. It is safe for concurrent reads.
type Refs []ExternalRef

// Get returns the ref of the given system and type.
func (rs Refs) Get(system, typ string) (ExternalRef, bool) {
	for _, r := range rs {
		if r.System == system && r.Type == typ {
			return r, true
		}
	}
	return ExternalRef{}, false
}

// With returns a copy of rs in which r replaces the ref of the same system
// and type, or is appended. rs itself is not modified.
func (rs Refs) With(r ExternalRef) Refs {
	out := make(Refs, 0, len(rs)+1)
	replaced := false
	for _, x := range rs {
		if x.System == r.System && x.Type == r.Type {
			out = append(out, r)
			replaced = true
			continue
		}
		out = append(out, x)
	}
	if !replaced {
		out = append(out, r)
	}
	return out
}

// Validate checks every ref and that no (system, type) pair appears twice.
func (rs Refs) Validate() error {
	v := violations{kind: "refs"}
	pairs := newDupFinder(rs, func(r *ExternalRef) refPair { return refPair{r.System, r.Type} })
	for i := range rs {
		r := &rs[i]
		if err := r.Validate(); err != nil {
			v.addErr(refIndex(i), err)
		}
		if j, dup := pairs.first(i, refPair{r.System, r.Type}); dup {
			v.add(refIndex(i), "duplicate ref for system "+strconv.Quote(r.System)+" and type "+strconv.Quote(r.Type)+" (also at "+refIndex(j)+")")
		}
	}
	return v.err()
}

// refPair is the (system, type) pair of which a Refs holds at most one ref.
type refPair struct{ system, typ string }

// refIndex returns "[i]", the path of the i-th ref.
func refIndex(i int) string { return "[" + strconv.Itoa(i) + "]" }

// Address is a postal address. Country is an ISO 3166-1 alpha-2 code. The
// zero value is not valid ([Address.Validate]). It is a plain value, safe
// for concurrent reads.
type Address struct {
	Name       string   `json:"name,omitempty"`
	Lines      []string `json:"lines,omitempty"`
	City       string   `json:"city,omitempty"`
	Region     string   `json:"region,omitempty"`
	PostalCode string   `json:"postalCode,omitempty"`
	Country    string   `json:"country"`
}

// Validate checks the country code and that the address has at least one
// line and a city.
func (a Address) Validate() error {
	v := violations{kind: "address"}
	if len(a.Lines) == 0 {
		v.add("lines", "at least one address line is required")
	}
	for i, l := range a.Lines {
		if strings.TrimSpace(l) == "" {
			v.add("lines["+strconv.Itoa(i)+"]", "must not be blank")
		}
	}
	if strings.TrimSpace(a.City) == "" {
		v.add("city", "is required")
	}
	if msg := countryProblem(a.Country); msg != "" {
		v.add("country", msg)
	}
	return v.err()
}

// ValidCountry reports whether code is an officially assigned ISO 3166-1
// alpha-2 code.
func ValidCountry(code string) bool { return countryProblem(code) == "" }

func countryProblem(code string) string {
	switch {
	case code == "":
		return "is required (ISO 3166-1 alpha-2)"
	case !isUpperAlpha(code, 2):
		return strconv.Quote(code) + " must be two upper-case letters (ISO 3166-1 alpha-2)"
	case code == "UK":
		return `"UK" is not an ISO 3166-1 code; use GB`
	case !strings.Contains(countryCodes, code+" ") || strings.Index(countryCodes, code+" ")%3 != 0:
		return strconv.Quote(code) + " is not an ISO 3166-1 alpha-2 country code"
	}
	return ""
}

// countryCodes lists the officially assigned ISO 3166-1 alpha-2 codes, each
// followed by a space so a lookup is a substring search at a multiple of 3.
const countryCodes = "AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ " +
	"BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ " +
	"CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ " +
	"DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR " +
	"GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY " +
	"HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP " +
	"KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY " +
	"MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ " +
	"NA NC NE NF NG NI NL NO NP NR NU NZ OM " +
	"PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW " +
	"SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ " +
	"TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ " +
	"UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW "

// PartyRef names a business party on a document: the sold-to customer, the
// ship-to or bill-to location. The zero value is not valid
// ([PartyRef.Validate]). It is a plain value, safe for concurrent reads.
type PartyRef struct {
	// ID is the canonical party ID (a customer ID for sold-to).
	ID      string   `json:"id"`
	Name    string   `json:"name,omitempty"`
	Refs    Refs     `json:"refs,omitempty"`
	Address *Address `json:"address,omitempty"`
}

// Validate checks the ID, the refs and the address when there is one.
func (p PartyRef) Validate() error {
	v := violations{kind: "party"}
	if strings.TrimSpace(p.ID) == "" {
		v.add("id", "is required")
	}
	v.addErr("refs", p.Refs.Validate())
	if p.Address != nil {
		v.addErr("address", p.Address.Validate())
	}
	return v.err()
}

// ItemRef identifies a sellable item on a document line: the canonical SKU,
// and the GTIN and system refs when known. The zero value is not valid
// ([ItemRef.Validate]). It is a plain value, safe for concurrent reads.
type ItemRef struct {
	SKU         string `json:"sku"`
	GTIN        GTIN   `json:"gtin,omitempty"`
	Description string `json:"description,omitempty"`
	Refs        Refs   `json:"refs,omitempty"`
}

// Validate checks the SKU, the GTIN's check digit when there is one, and
// the refs.
func (r ItemRef) Validate() error {
	v := violations{kind: "item ref"}
	if strings.TrimSpace(r.SKU) == "" {
		v.add("sku", "is required")
	}
	if r.GTIN != "" {
		if err := r.GTIN.Validate(); err != nil {
			v.add("gtin", errorMessage(err))
		}
	}
	v.addErr("refs", r.Refs.Validate())
	return v.err()
}
