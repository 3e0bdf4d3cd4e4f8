package dashboard

import (
	"math"
	"strconv"
	"strings"
)

// The page's numbers are English-formatted: 1,234,567; 1.23%; a true minus sign; "–" for nothing to show.
const (
	minus = "−"
	none  = "–"
)

// formatInt groups digits in threes: 1234567 is "1,234,567".
func formatInt(n int64) string {
	if n < 0 {
		// -MinInt64 overflows int64, not uint64.
		return minus + group(strconv.FormatUint(uint64(-(n+1))+1, 10))
	}
	return group(strconv.FormatInt(n, 10))
}

// signedInt is a change: "+1,234", "−56", "0".
func signedInt(n int64) string {
	if n > 0 {
		return "+" + formatInt(n)
	}
	return formatInt(n)
}

// formatFloat writes x with decimals places, digits grouped; a true minus sign.
func formatFloat(x float64, decimals int) string {
	s := strconv.FormatFloat(math.Abs(x), 'f', decimals, 64)
	whole, frac, _ := strings.Cut(s, ".")
	out := group(whole)
	if frac != "" {
		out += "." + frac
	}
	if x < 0 && strings.Trim(s, "0.") != "" {
		out = minus + out
	}
	return out
}

// signedFloat is formatFloat with a "+" on a positive value that does not round to zero.
func signedFloat(x float64, decimals int) string {
	s := formatFloat(x, decimals)
	if x > 0 && strings.Trim(s, "0.,") != "" {
		return "+" + s
	}
	return s
}

// formatCTR is a click-through rate (a fraction) as a percentage: "1.25%", "–" when there is none.
func formatCTR(ctr *float64) string {
	if ctr == nil {
		return none
	}
	if *ctr > 0 && *ctr < 0.00005 {
		return "<0.01%"
	}
	return formatFloat(*ctr*100, 2) + "%"
}

func group(digits string) string {
	if len(digits) <= 3 {
		return digits
	}
	var b strings.Builder
	head := len(digits) % 3
	if head > 0 {
		b.WriteString(digits[:head])
	}
	for i := head; i < len(digits); i += 3 {
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(digits[i : i+3])
	}
	return b.String()
}

// compact is an axis label: at most three significant figures and a unit, 0, 750, 2.5k, 12.5M, 1B. Beyond
// trillions it is scientific (2.5e18): no count of this system gets there.
func compact(v float64) string {
	units := []struct {
		size   float64
		suffix string
	}{{1e12, "T"}, {1e9, "B"}, {1e6, "M"}, {1e3, "k"}}
	if v >= 1e15 {
		return strings.Replace(strconv.FormatFloat(v, 'g', 3, 64), "e+", "e", 1)
	}
	for _, u := range units {
		if v >= u.size {
			return strconv.FormatFloat(math.Round(v/u.size*100)/100, 'f', -1, 64) + u.suffix
		}
	}
	return strconv.FormatFloat(math.Round(v*100)/100, 'f', -1, 64)
}
