package chattemplate

import (
	"fmt"
	"strings"
	"time"
)

// strftime formats t like Python's datetime.strftime in the C locale (what
// transformers' strftime_now returns). Supported: %a %A %b %h %B %c %d %e %H
// %I %j %m %M %p %S %u %w %x %X %y %Y %z %Z %F %T %D %R %n %t %%, and the
// glibc "-" flag (no padding, e.g. %-d). %z and %Z give "" as for Python's
// naive datetime.now(). Other directives are copied as is.
func strftime(t time.Time, format string) string {
	var sb strings.Builder
	for i := 0; i < len(format); i++ {
		c := format[i]
		if c != '%' || i+1 >= len(format) {
			sb.WriteByte(c)
			continue
		}
		j := i + 1
		noPad := false
		if format[j] == '-' && j+1 < len(format) {
			noPad = true
			j++
		}
		d := format[j]
		num := func(n, width int) string {
			if noPad {
				return fmt.Sprint(n)
			}
			return fmt.Sprintf("%0*d", width, n)
		}
		var s string
		ok := true
		switch d {
		case 'a':
			s = t.Weekday().String()[:3]
		case 'A':
			s = t.Weekday().String()
		case 'b', 'h':
			s = t.Month().String()[:3]
		case 'B':
			s = t.Month().String()
		case 'c':
			s = strftime(t, "%a %b %e %H:%M:%S %Y")
		case 'd':
			s = num(t.Day(), 2)
		case 'e':
			if noPad {
				s = fmt.Sprint(t.Day())
			} else {
				s = fmt.Sprintf("%2d", t.Day())
			}
		case 'H':
			s = num(t.Hour(), 2)
		case 'I':
			h := t.Hour() % 12
			if h == 0 {
				h = 12
			}
			s = num(h, 2)
		case 'j':
			s = num(t.YearDay(), 3)
		case 'm':
			s = num(int(t.Month()), 2)
		case 'M':
			s = num(t.Minute(), 2)
		case 'p':
			s = "AM"
			if t.Hour() >= 12 {
				s = "PM"
			}
		case 'S':
			s = num(t.Second(), 2)
		case 'u':
			wd := int(t.Weekday())
			if wd == 0 {
				wd = 7
			}
			s = fmt.Sprint(wd)
		case 'w':
			s = fmt.Sprint(int(t.Weekday()))
		case 'x':
			s = strftime(t, "%m/%d/%y")
		case 'X', 'T':
			s = strftime(t, "%H:%M:%S")
		case 'y':
			s = num(t.Year()%100, 2)
		case 'Y':
			s = fmt.Sprint(t.Year())
		case 'z', 'Z':
			// transformers formats a naive datetime.now(): no zone.
			s = ""
		case 'F':
			s = strftime(t, "%Y-%m-%d")
		case 'D':
			s = strftime(t, "%m/%d/%y")
		case 'R':
			s = strftime(t, "%H:%M")
		case 'n':
			s = "\n"
		case 't':
			s = "\t"
		case '%':
			s = "%"
		default:
			ok = false
		}
		if !ok {
			sb.WriteString(format[i : j+1])
		} else {
			sb.WriteString(s)
		}
		i = j
	}
	return sb.String()
}
