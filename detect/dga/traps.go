package dga

// Benign traps: names whose labels are random by design. Each entry is an
// ICANN registered domain (eTLD+1); every name under it scores 0 with the
// reason given. Dynamic-DNS platforms (duckdns.org, ddns.net, no-ip, dyndns)
// are deliberately absent: malware uses them, so their customer labels are
// scored like any other site label.
const (
	trapPlatform = "platform hostname: customer or machine label under a cloud/CDN provider, random by design"
	trapVendor   = "security vendor lookup: hashes or reputation queries encoded in labels, random by design"
	trapIDN      = "internationalised label (punycode): not scored by the character model"
)

var traps = map[string]string{
	// cloud and CDN platforms
	"cloudfront.net":           trapPlatform,
	"amazonaws.com":            trapPlatform,
	"amazonaws.com.cn":         trapPlatform,
	"awsglobalaccelerator.com": trapPlatform,
	"aws.dev":                  trapPlatform,
	"googlevideo.com":          trapPlatform,
	"googleusercontent.com":    trapPlatform,
	"googlesyndication.com":    trapPlatform,
	"gvt1.com":                 trapPlatform,
	"gvt2.com":                 trapPlatform,
	"1e100.net":                trapPlatform,
	"ggpht.com":                trapPlatform,
	"appspot.com":              trapPlatform,
	"cloudfunctions.net":       trapPlatform,
	"run.app":                  trapPlatform,
	"firebaseio.com":           trapPlatform,
	"akamaiedge.net":           trapPlatform,
	"akamai.net":               trapPlatform,
	"akamaihd.net":             trapPlatform,
	"akamaized.net":            trapPlatform,
	"akadns.net":               trapPlatform,
	"akamaitechnologies.com":   trapPlatform,
	"edgekey.net":              trapPlatform,
	"edgesuite.net":            trapPlatform,
	"azureedge.net":            trapPlatform,
	"azurefd.net":              trapPlatform,
	"azurewebsites.net":        trapPlatform,
	"cloudapp.net":             trapPlatform,
	"cloudapp.azure.com":       trapPlatform,
	"windows.net":              trapPlatform,
	"trafficmanager.net":       trapPlatform,
	"msedge.net":               trapPlatform,
	"fastly.net":               trapPlatform,
	"fastlylb.net":             trapPlatform,
	"cloudflare.net":           trapPlatform,
	"cdn77.org":                trapPlatform,
	"llnwd.net":                trapPlatform,
	"edgecastcdn.net":          trapPlatform,
	"footprint.net":            trapPlatform,
	"fbcdn.net":                trapPlatform,
	"cdninstagram.com":         trapPlatform,
	"aaplimg.com":              trapPlatform,
	"apple-dns.net":            trapPlatform,
	"herokuapp.com":            trapPlatform,
	"herokudns.com":            trapPlatform,
	"elasticbeanstalk.com":     trapPlatform,
	"digitaloceanspaces.com":   trapPlatform,
	"oraclecloud.com":          trapPlatform,
	"cloudflarestorage.com":    trapPlatform,
	"r2.dev":                   trapPlatform,
	"vercel.app":               trapPlatform,
	"netlify.app":              trapPlatform,
	"ngrok.io":                 trapPlatform,
	"ngrok-free.app":           trapPlatform,
	"ytimg.com":                trapPlatform,
	"doubleclick.net":          trapPlatform,

	// security vendors' hash and reputation lookups over DNS
	"sophosxl.net":           trapVendor,
	"sophos.com":             trapVendor,
	"mcafee.com":             trapVendor,
	"trellix.com":            trapVendor,
	"e5.sk":                  trapVendor,
	"eset.com":               trapVendor,
	"eset.net":               trapVendor,
	"trendmicro.com":         trapVendor,
	"trendmicro.co.jp":       trapVendor,
	"symantec.com":           trapVendor,
	"symantecliveupdate.com": trapVendor,
	"norton.com":             trapVendor,
	"kaspersky.com":          trapVendor,
	"kaspersky-labs.com":     trapVendor,
	"avast.com":              trapVendor,
	"avcdn.net":              trapVendor,
	"bitdefender.net":        trapVendor,
	"bitdefender.com":        trapVendor,
	"webroot.com":            trapVendor,
	"brightcloud.com":        trapVendor,
	"cymru.com":              trapVendor,
	"spamhaus.org":           trapVendor,
	"spamhaus.net":           trapVendor,
	"spamcop.net":            trapVendor,
	"surbl.org":              trapVendor,
	"uribl.com":              trapVendor,
	"sorbs.net":              trapVendor,
	"barracudacentral.org":   trapVendor,
	"senderbase.org":         trapVendor,
	"dnswl.org":              trapVendor,
	"mailspike.net":          trapVendor,
	"abuse.ch":               trapVendor,
	"crowdstrike.com":        trapVendor,
	"paloaltonetworks.com":   trapVendor,
	"fortinet.net":           trapVendor,
	"fortiguard.com":         trapVendor,
	"zscaler.net":            trapVendor,
	"umbrella.com":           trapVendor,
	"opendns.com":            trapVendor,
}

func trapBit(reg string) int { return (len(reg)&63)<<8 | int(reg[0]) }

// trapReason says why p is a benign trap, or "".
func trapReason(p parsed) string {
	if p.trap != "" {
		return p.trap
	}
	l := p.siteLabel()
	if len(l) >= 4 && l[:4] == "xn--" {
		return trapIDN
	}
	return ""
}
