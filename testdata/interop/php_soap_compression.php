<?php
// PHP's SoapClient against tokenmanager with compressed requests and answers (SOAP_COMPRESSION_GZIP /
// SOAP_COMPRESSION_DEFLATE | SOAP_COMPRESSION_ACCEPT), as a PHP shop would configure it.
//
//   php php_soap_compression.php URL USER PRODUCT_ID   (the password in TM_PASSWORD)
//
// Prints one JSON report on stdout: {"php":…,"ok":bool,"checks":[{"name","ok","detail"}]}.

$url = $argv[1];
$user = $argv[2];
$product = (int)$argv[3];
$pass = getenv('TM_PASSWORD');

$checks = [];
function check($name, $ok, $detail = null) {
    global $checks;
    $checks[] = ['name' => $name, 'ok' => (bool)$ok, 'detail' => $detail];
}

function client($wsdl, $compression) {
    global $user, $pass;
    return new SoapClient($wsdl, [
        'login' => $user, 'password' => $pass, 'trace' => 1, 'exceptions' => true,
        'cache_wsdl' => WSDL_CACHE_NONE, 'connection_timeout' => 10, 'compression' => $compression,
    ]);
}

function header_has($headers, $name, $value) {
    return preg_match('/^' . preg_quote($name, '/') . ':\s*' . preg_quote($value, '/') . '\s*$/mi', $headers) === 1;
}

try {
    foreach (['gzip' => SOAP_COMPRESSION_GZIP, 'deflate' => SOAP_COMPRESSION_DEFLATE] as $name => $kind) {
        $tm = client("$url/security/TokenManagerService?wsdl", SOAP_COMPRESSION_ACCEPT | $kind | 5);
        $r = $tm->getAccessExpiringToken(['tokenLifeInMinutes' => 30]);
        check("$name: request sent with Content-Encoding: $name",
            header_has($tm->__getLastRequestHeaders(), 'Content-Encoding', $name), $tm->__getLastRequestHeaders());
        check("$name: request asks for compressed answers",
            header_has($tm->__getLastRequestHeaders(), 'Accept-Encoding', 'gzip, deflate'), $tm->__getLastRequestHeaders());
        check("$name: getAccessExpiringToken answers a token and a session",
            isset($r->return->token) && strlen($r->return->token) > 100 && isset($r->return->session)
                && $r->return->username === $user, $r);
    }

    // The LicenseService's answers are large enough to be compressed.
    $lic = client("$url/security/LicenseService?wsdl", SOAP_COMPRESSION_ACCEPT | SOAP_COMPRESSION_GZIP | 5);
    $created = $lic->createKey(['productId' => $product, 'period' => 30, 'maxNoOfMachines' => 1,
        'notes' => str_repeat('made by PHP SoapClient with gzip. ', 10)]);
    $key = $created->return->key ?? '';
    check('createKey over gzip returns a key', preg_match('/^[A-Z]{5}(-[A-Z]{5}){3}$/', $key) === 1, $created);
    $got = $lic->getKey(['productId' => $product, 'key' => $key]);
    check('getKey answer came gzipped', header_has($lic->__getLastResponseHeaders(), 'Content-Encoding', 'gzip'),
        $lic->__getLastResponseHeaders());
    check('getKey answer decoded by SoapClient', ($got->return->key ?? '') === $key
        && strlen($got->return->signature ?? '') === 256, ['key' => $got->return->key ?? null]);

    // A compressed request whose decoded size exceeds the server's body limit: refused with a fault.
    try {
        $lic->createKey(['productId' => $product, 'notes' => str_repeat('a', 4 << 20)]);
        check('a 4 MiB request compressed to a few KiB is refused', false, 'accepted');
    } catch (SoapFault $f) {
        check('a 4 MiB request compressed to a few KiB is refused', strpos($f->getMessage(), 'too large') !== false
            && strlen($lic->__getLastRequest()) > (4 << 20), $f->getMessage());
    }
} catch (Throwable $e) {
    check('no unexpected exception', false, get_class($e) . ': ' . $e->getMessage());
}

$ok = count($checks) > 0;
foreach ($checks as $c) {
    $ok = $ok && $c['ok'];
}
echo json_encode(['php' => PHP_VERSION, 'ok' => $ok, 'checks' => $checks], JSON_PARTIAL_OUTPUT_ON_ERROR), "\n";
