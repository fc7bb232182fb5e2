package storetest

import "time"

// CheckCases is Check for a chosen subset of the suite: it runs the given cases (normally a
// selection of Cases, in that order) against h outside go test and returns one Result per case.
// The dockyard conform command uses it for its --run filter.
func CheckCases(cases []Case, h Harness, timeout time.Duration, report func(Result)) []Result {
	results := make([]Result, 0, len(cases))
	for _, c := range cases {
		r := runCase(c, h, timeout)
		if report != nil {
			report(r)
		}
		results = append(results, r)
	}
	return results
}
