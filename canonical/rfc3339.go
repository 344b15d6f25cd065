package canonical

import (
	"strconv"
	"time"
)

// parseRFC3339 parses s as an RFC 3339 date-time, checking the grammar of
// RFC 3339 section 5.6 and the ranges and restrictions of section 5.7
// rather than trusting time.Parse, which accepts a one-digit hour
// ("T3:04:05Z") and turns an offset of "+00:60" into "+01:00":
//
//	date-time      = full-date "T" full-time
//	full-date      = date-fullyear "-" date-month "-" date-mday
//	full-time      = partial-time time-offset
//	partial-time   = time-hour ":" time-minute ":" time-second [time-secfrac]
//	time-secfrac   = "." 1*DIGIT
//	time-offset    = "Z" / time-numoffset
//	time-numoffset = ("+" / "-") time-hour ":" time-minute
//
// Every field has exactly its number of ASCII digits: a four-digit year
// (0000–9999), month 01–12, day 01 to the length of the month (leap years
// counted), hour 00–23, minute 00–59, second 00–59, an offset of hours
// 00–23 and minutes 00–59. As the note of section 5.6 allows (ABNF
// strings are case-insensitive), "T" and "Z" may be lower case. Not
// accepted: a space or other separator in place of "T" (the note allows
// applications to choose one, it is not the grammar), "," for ".", an
// offset without ":" or of other lengths.
//
// A second of 60 is grammatical only for a leap second, which section 5.7
// allows at 23:59:60 UTC on the last day of a month; a time.Time cannot
// hold one, so it is refused with its own message, and any other second
// 60 as out of range. Fraction digits beyond the ninth (below a
// nanosecond) are dropped. "-00:00" (an unknown local offset, section 4.3)
// is the instant in UTC, like "Z"; the result is in time.UTC for these and
// in a fixed zone for any other offset.
//
// It returns the time, or a problem describing what is wrong for people
// ("" when s is valid).
func parseRFC3339(s string) (time.Time, string) {
	p := rfc3339Parser{s: s}
	year := p.num(4, "year", '-')
	month := p.num(2, "month", '-')
	day := p.num(2, "day", 'T')
	hour := p.num(2, "hour", ':')
	minute := p.num(2, "minute", ':')
	second := p.num(2, "second", 0)
	nsec := 0
	if p.problem == "" && p.i < len(s) && s[p.i] == '.' {
		p.i++
		start := p.i
		for p.i < len(s) && isDigit(s[p.i]) {
			if p.i-start < 9 {
				nsec = nsec*10 + int(s[p.i]-'0')
			}
			p.i++
		}
		if p.i == start {
			p.fail("a fraction of a second needs at least one digit after the \".\"")
		}
		for n := p.i - start; n < 9; n++ {
			nsec *= 10
		}
	}
	offset, utc := 0, true
	if p.problem == "" {
		switch {
		case p.i < len(s) && (s[p.i] == 'Z' || s[p.i] == 'z'):
			p.i++
		case p.i < len(s) && (s[p.i] == '+' || s[p.i] == '-'):
			sign := 1
			if s[p.i] == '-' {
				sign = -1
			}
			p.i++
			oh := p.num(2, "offset hour", ':')
			om := p.num(2, "offset minute", 0)
			switch {
			case p.problem != "":
			case oh > 23:
				p.fail("the offset hour must be 00–23, is " + strconv.Itoa(oh))
			case om > 59:
				p.fail("the offset minute must be 00–59, is " + strconv.Itoa(om))
			}
			offset = sign * (oh*3600 + om*60)
			utc = offset == 0
		case p.i < len(s) && s[p.i] == ',':
			p.fail(`a fraction of a second follows a ".", not a ","`)
		default:
			p.fail(`the time needs an offset: "Z" or ±hh:mm`)
		}
	}
	if p.problem == "" && p.i != len(s) {
		p.fail("unexpected text after the offset")
	}
	if p.problem != "" {
		return time.Time{}, p.problem
	}
	switch {
	case month < 1 || month > 12:
		return time.Time{}, "the month must be 01–12, is " + strconv.Itoa(month)
	case day < 1 || day > daysIn(time.Month(month), year):
		return time.Time{}, "day " + strconv.Itoa(day) + " is not in " + time.Month(month).String() + " " + strconv.Itoa(year)
	case hour > 23:
		return time.Time{}, "the hour must be 00–23, is " + strconv.Itoa(hour)
	case minute > 59:
		return time.Time{}, "the minute must be 00–59, is " + strconv.Itoa(minute)
	case second == 60:
		// 23:59:60 UTC on the last day of a month is a leap second.
		u := time.Date(year, time.Month(month), day, hour, minute, 59, 0, time.UTC).Add(-time.Duration(offset) * time.Second)
		if u.Hour() == 23 && u.Minute() == 59 && u.Day() == daysIn(u.Month(), u.Year()) {
			return time.Time{}, "is a leap second (23:59:60 UTC), which distsync cannot represent"
		}
		return time.Time{}, "the second must be 00–59 (60 only for a leap second at 23:59:60 UTC at the end of a month), is 60"
	case second > 60:
		return time.Time{}, "the second must be 00–59, is " + strconv.Itoa(second)
	}
	loc := time.UTC
	if !utc {
		loc = time.FixedZone("", offset)
	}
	return time.Date(year, time.Month(month), day, hour, minute, second, nsec, loc), ""
}

// rfc3339Parser reads the fixed-width numbers of an RFC 3339 date-time,
// keeping the first problem.
type rfc3339Parser struct {
	s       string
	i       int
	problem string
}

// num reads exactly n ASCII digits naming field, then the separator sep
// (none when sep is 0; 'T' also matches 't').
func (p *rfc3339Parser) num(n int, field string, sep byte) int {
	if p.problem != "" {
		return 0
	}
	v, j := 0, p.i
	for j < len(p.s) && j-p.i < n && isDigit(p.s[j]) {
		v = v*10 + int(p.s[j]-'0')
		j++
	}
	if j-p.i != n || j < len(p.s) && isDigit(p.s[j]) {
		p.fail("the " + field + " must have exactly " + strconv.Itoa(n) + " digits")
		return 0
	}
	p.i = j
	if sep == 0 {
		return v
	}
	if p.i < len(p.s) && (p.s[p.i] == sep || sep == 'T' && p.s[p.i] == 't') {
		p.i++
		return v
	}
	p.fail("the " + field + " must be followed by " + strconv.Quote(string(sep)))
	return 0
}

func (p *rfc3339Parser) fail(problem string) {
	if p.problem == "" {
		p.problem = problem
	}
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// daysIn returns the number of days of month m in year y (proleptic
// Gregorian calendar, as RFC 3339 uses).
func daysIn(m time.Month, y int) int {
	return time.Date(y, m+1, 0, 0, 0, 0, 0, time.UTC).Day()
}
