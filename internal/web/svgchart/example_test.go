package svgchart_test

import (
	"fmt"
	"strings"

	"abusedesk/internal/web/svgchart"
)

func ExampleBars() {
	svg := svgchart.Bars(svgchart.Chart{
		Title:  "Cases per day",
		Labels: []string{"Mon", "Tue"},
		Series: []svgchart.Series{
			{Name: "spam", Values: []float64{3, 1}},
			{Name: "phishing", Values: []float64{1, 2}},
		},
		Width:  200,
		Height: 100,
	})
	// One element per line for readability; the real output is one line.
	fmt.Println(strings.ReplaceAll(string(svg), "><", ">\n<"))
	// Output:
	// <svg xmlns="http://www.w3.org/2000/svg" class="svgchart svgchart-bars" viewBox="0 0 200 100" role="img" aria-labelledby="svgchart-3ce8fbafe389c8e0" font-family="sans-serif" font-size="11">
	// <title id="svgchart-3ce8fbafe389c8e0">Cases per day</title>
	// <style>:where(.svgchart text){fill:currentColor}:where(.svgchart .s0){fill:#0072B2;stroke:#0072B2}:where(.svgchart .s1){fill:#E69F00;stroke:#E69F00}:where(.svgchart .s2){fill:#009E73;stroke:#009E73}:where(.svgchart .s3){fill:#D55E00;stroke:#D55E00}:where(.svgchart .s4){fill:#56B4E9;stroke:#56B4E9}:where(.svgchart .s5){fill:#CC79A7;stroke:#CC79A7}:where(.svgchart .s6){fill:#F0E442;stroke:#F0E442}:where(.svgchart .s7){fill:#000000;stroke:#000000}</style>
	// <g class="legend">
	// <rect class="s0" fill="#0072B2" stroke="#0072B2" x="8" y="4" width="10" height="10"/>
	// <text x="22" y="9" dy=".32em">spam</text>
	// <rect class="s1" fill="#E69F00" stroke="#E69F00" x="60" y="4" width="10" height="10"/>
	// <text x="74" y="9" dy=".32em">phishing</text>
	// </g>
	// <line x1="14.5" y1="82" x2="190.3" y2="82" stroke="#ddd"/>
	// <text x="10.5" y="82" dy=".32em" text-anchor="end">0</text>
	// <line x1="14.5" y1="67.5" x2="190.3" y2="67.5" stroke="#ddd"/>
	// <text x="10.5" y="67.5" dy=".32em" text-anchor="end">1</text>
	// <line x1="14.5" y1="53" x2="190.3" y2="53" stroke="#ddd"/>
	// <text x="10.5" y="53" dy=".32em" text-anchor="end">2</text>
	// <line x1="14.5" y1="38.5" x2="190.3" y2="38.5" stroke="#ddd"/>
	// <text x="10.5" y="38.5" dy=".32em" text-anchor="end">3</text>
	// <line x1="14.5" y1="24" x2="190.3" y2="24" stroke="#ddd"/>
	// <text x="10.5" y="24" dy=".32em" text-anchor="end">4</text>
	// <g class="s0" fill="#0072B2" stroke="#0072B2" stroke-width="0">
	// <rect x="34.4" y="38.5" width="48" height="43.5">
	// <title>Mon, spam: 3</title>
	// </rect>
	// <rect x="122.3" y="67.5" width="48" height="14.5">
	// <title>Tue, spam: 1</title>
	// </rect>
	// </g>
	// <g class="s1" fill="#E69F00" stroke="#E69F00" stroke-width="0">
	// <rect x="34.4" y="24" width="48" height="14.5">
	// <title>Mon, phishing: 1</title>
	// </rect>
	// <rect x="122.3" y="38.5" width="48" height="29">
	// <title>Tue, phishing: 2</title>
	// </rect>
	// </g>
	// <g class="xl" text-anchor="middle">
	// <text x="58.4" y="96">Mon</text>
	// <text x="146.3" y="96">Tue</text>
	// </g>
	// <path d="M14.5 24V82H190.3" fill="none" stroke="#888"/>
	// </svg>
}
