package etcd

import (
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/dockyard/dockyard/pdk"
)

// DSN is a parsed etcd DSN, etcd://[user[:password]@]host:port[,host:port...][/prefix][?params]
// (see the package doc). Tools that make stores of their own (a fresh prefix per store) parse
// and format DSNs with it rather than by hand.
type DSN struct {
	Endpoints          []string // host:port, at least one
	Username, Password string   // empty: no authentication
	Prefix             string   // the key prefix, unescaped; empty: DefaultPrefix
	Params             url.Values
}

// ParseDSN parses dsn, checking its form and its parameters' names (their values are checked
// when a store is opened). Errors show the DSN with its password masked.
func ParseDSN(dsn string) (DSN, error) {
	var d DSN
	rest, ok := strings.CutPrefix(dsn, "etcd://")
	if !ok {
		return d, fmt.Errorf("etcd: DSN %q: want etcd://host:port[,host:port...][/prefix]", pdk.RedactDSN(dsn))
	}
	rest, query, _ := strings.Cut(rest, "?")
	hosts, path, _ := strings.Cut(rest, "/")
	if i := strings.LastIndex(hosts, "@"); i >= 0 {
		u, p, _ := strings.Cut(hosts[:i], ":")
		hosts = hosts[i+1:]
		var err1, err2 error
		d.Username, err1 = url.PathUnescape(u)
		d.Password, err2 = url.PathUnescape(p)
		if err := errors.Join(err1, err2); err != nil || d.Username == "" {
			return d, fmt.Errorf("etcd: DSN %q: invalid user name or password", pdk.RedactDSN(dsn))
		}
	}
	for _, h := range strings.Split(hosts, ",") {
		host, port, found := strings.Cut(h, ":")
		if _, err := strconv.ParseUint(port, 10, 16); host == "" || !found || err != nil {
			return d, fmt.Errorf("etcd: DSN %q: endpoint %q: want host:port", pdk.RedactDSN(dsn), h)
		}
		d.Endpoints = append(d.Endpoints, h)
	}
	prefix, err := url.PathUnescape(strings.TrimSuffix(path, "/"))
	if err != nil {
		return d, fmt.Errorf("etcd: DSN %q: key prefix: %w", pdk.RedactDSN(dsn), err)
	}
	d.Prefix = prefix
	if d.Params, err = url.ParseQuery(query); err != nil {
		return d, fmt.Errorf("etcd: DSN %q: parameters: %w", pdk.RedactDSN(dsn), err)
	}
	for name := range d.Params {
		if !slices.Contains(dsnParams, name) {
			return d, fmt.Errorf("etcd: DSN %q: parameter %s: unknown parameter (want %s)", pdk.RedactDSN(dsn), name, strings.Join(dsnParams, ", "))
		}
	}
	return d, nil
}

// dsnParams are the DSN's parameters, each the option of the same JSON name.
var dsnParams = []string{"lock_ttl", "dial_timeout", "request_timeout", "max_request_bytes", "tls_ca", "tls_cert", "tls_key"}

// String formats d as a DSN that ParseDSN reads back as d.
func (d DSN) String() string {
	var b strings.Builder
	b.WriteString("etcd://")
	if d.Username != "" {
		b.WriteString(url.PathEscape(d.Username))
		if d.Password != "" {
			b.WriteString(":" + url.PathEscape(d.Password))
		}
		b.WriteString("@")
	}
	b.WriteString(strings.Join(d.Endpoints, ","))
	if d.Prefix != "" {
		b.WriteString("/" + (&url.URL{Path: d.Prefix}).EscapedPath())
	}
	if len(d.Params) > 0 {
		b.WriteString("?" + d.Params.Encode())
	}
	return b.String()
}

// apply sets the options named by d's parameters.
func (d DSN) apply(o *Options) error {
	for name, vals := range d.Params {
		v := vals[len(vals)-1]
		var err error
		switch name {
		case "lock_ttl":
			err = setDuration(&o.LockTTL, v)
		case "dial_timeout":
			err = setDuration(&o.DialTimeout, v)
		case "request_timeout":
			err = setDuration(&o.RequestTimeout, v)
		case "max_request_bytes":
			o.MaxRequestBytes, err = strconv.Atoi(v)
		case "tls_ca":
			o.TLSCA = v
		case "tls_cert":
			o.TLSCert = v
		case "tls_key":
			o.TLSKey = v
		}
		if err != nil {
			return fmt.Errorf("etcd: DSN %q: parameter %s=%q: %w", d.Redacted(), name, v, err)
		}
	}
	return nil
}

func setDuration(d *pdk.Duration, s string) error {
	v, err := time.ParseDuration(s)
	*d = pdk.Duration(v)
	return err
}

// Redacted is d's String with the password masked.
func (d DSN) Redacted() string {
	if d.Password != "" {
		d.Password = "xxxxx"
	}
	return d.String()
}
