#!/usr/bin/python3
"""Generates the MTProto TL vectors in vectors/tl/ (mtproto_service, auth_exchange,
strings, containers, invalid).

The bytes of every object come from an independent implementation: Telethon
1.25.1 (Debian's python3-telethon; run with /usr/bin/python3), its generated
TLObject classes serialising the value.  Containers, rpc_result and
gzip_packed, which Telethon builds by hand in its sender, are framed here
from the spec (core.telegram.org/mtproto/service_messages): msg_id, seqno,
length, body; gzip uses Python's gzip module with mtime 0.  The two
auth-exchange messages marked so are the published bytes of
core.telegram.org/mtproto/samples-auth_key.

The JSON of each case is the expected mapping (docs/tl-json.md), written here
by hand; Telethon turns it into bytes, so a mapping mistake in the engine
shows up as a mismatch.

    /usr/bin/python3 vectors/gen/tl_mtproto_telethon.py   # rewrites vectors/tl/*.json
"""
import gzip
import json
import os
import re
import struct

from telethon.tl import alltlobjects
from telethon.tl.tlobject import TLObject

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
OUT = os.path.join(ROOT, 'vectors', 'tl')

GENERATOR = ('Telethon 1.25.1 (python3-telethon, Debian 12) serialises each object; '
             'vectors/gen/tl_mtproto_telethon.py')
SPEC = ['https://core.telegram.org/mtproto/serialize',
        'https://core.telegram.org/schema/mtproto',
        'https://core.telegram.org/mtproto/service_messages']


# ---------------------------------------------------------------- schema facts
def parse_schema(path):
    """name -> (id, [(arg, type, cond)]) from a .tl file (enough for these vectors)."""
    out = {}
    for line in open(path):
        line = line.split('//')[0].strip()
        if not line or line.startswith('---') or '?' == line.split()[1:2]:
            continue
        m = re.match(r'^([\w.]+)(?:#([0-9a-f]+))?\s*(.*?)\s*=\s*(.*);$', line)
        if not m:
            continue
        name, cid, args, _ = m.groups()
        fields = []
        for a in args.split():
            if ':' not in a or a.startswith('{'):
                continue
            an, at = a.split(':', 1)
            cond = None
            if '?' in at:
                cond, at = at.split('?', 1)
            fields.append((an, at, cond))
        out[name] = (int(cid, 16) if cid else None, fields)
    return out


SCHEMA = parse_schema(os.path.join(ROOT, 'vectors', 'schema', 'mtproto.tl'))


def i128(h):
    return int.from_bytes(bytes.fromhex(h), 'little', signed=True)


def conv(typ, v):
    if typ in ('int', '#', 'double', 'Bool'):
        return v
    if typ == 'long':
        return int(v)
    if typ in ('int128', 'int256'):
        return i128(v)
    if typ == 'bytes':
        return bytes.fromhex(v)
    if typ == 'string':
        return bytes.fromhex(v['bytes']) if isinstance(v, dict) else v
    m = re.match(r'^[Vv]ector<(.*)>$', typ)
    if m:
        return [conv(m.group(1), e) for e in v]
    if typ[0].islower():  # a bare constructor
        return telethon_obj(dict(v, _=typ))
    return telethon_obj(v)


def telethon_obj(j):
    cid, fields = SCHEMA[j['_']]
    cls = alltlobjects.tlobjects[cid]
    kwargs = {an: conv(at, j[an]) for an, at, cond in fields if an in j and at != '#'}
    return cls(**kwargs)


def tl(j):
    """The serialisation of a JSON value at an Object position."""
    if j is True or j is False:
        return struct.pack('<I', 0x997275b5 if j else 0xbc799737)
    if isinstance(j, list):  # a Vector<long> result
        return struct.pack('<Ii', 0x1cb5c415, len(j)) + b''.join(struct.pack('<q', int(x)) for x in j)
    name = j['_']
    if name == 'msg_container':
        body = struct.pack('<i', len(j['messages']))
        for m in j['messages']:
            inner = tl(m['body'])
            body += struct.pack('<qii', int(m['msg_id']), m['seqno'], len(inner)) + inner
        return struct.pack('<I', 0x73f1f8dc) + body
    if name == 'rpc_result':
        return struct.pack('<Iq', 0xf35c6d01, int(j['req_msg_id'])) + tl(j['result'])
    if name == 'gzip_packed':
        return struct.pack('<I', 0x3072cfa1) + TLObject.serialize_bytes(bytes.fromhex(j['packed_data']))
    return bytes(telethon_obj(j))


def gz(inner_json):
    """A gzip_packed JSON value whose packed_data Python's gzip makes."""
    packed = gzip.compress(tl(inner_json), compresslevel=9, mtime=0)
    return {'_': 'gzip_packed', 'packed_data': packed.hex(), 'unpacked': inner_json}


def message(msg_id, seqno, body):
    return {'_': 'message', 'msg_id': str(msg_id), 'seqno': seqno, 'bytes': len(tl(body)), 'body': body}


# ---------------------------------------------------------------- files
class VectorFile:
    def __init__(self, stem, title, source, schema='mtproto', spec=SPEC, generator=GENERATOR, notes=None):
        self.stem, self.title, self.source, self.schema = stem, title, source, schema
        self.spec, self.generator, self.notes = spec, generator, notes or {}
        self.decode, self.encode, self.tc = [], [], 0

    def _id(self):
        self.tc += 1
        return self.tc

    def obj(self, comment, j, data=None, flags=None):
        """A valid object: decodes to j, and j encodes to the same bytes."""
        data = data if data is not None else tl(j)
        t = {'tcId': self._id(), 'comment': comment, 'result': 'valid', 'args': {'data': data.hex()},
             'expect': {'json': j}}
        if flags:
            t['flags'] = flags
        self.decode.append(t)
        self.encode.append({'tcId': self._id(), 'comment': comment, 'result': 'valid', 'args': {'json': j},
                            'expect': {'data': data.hex()}})

    def bad_decode(self, comment, data, error, flags=None, args=None, result='invalid', expect=None):
        t = {'tcId': self._id(), 'comment': comment, 'result': result,
             'args': dict({'data': data.hex()}, **(args or {})), 'expect': expect or {'error': error}}
        if flags:
            t['flags'] = flags
        self.decode.append(t)

    def bad_encode(self, comment, j, error, args=None):
        self.encode.append({'tcId': self._id(), 'comment': comment, 'result': 'invalid',
                            'args': dict({'json': j}, **(args or {})), 'expect': {'error': error}})

    def write(self):
        groups = []
        if self.decode:
            groups.append({'op': 'tl_decode', 'comment': 'bytes -> JSON', 'args': {'schema': self.schema},
                           'tests': self.decode})
        if self.encode:
            groups.append({'op': 'tl_encode', 'comment': 'JSON -> bytes', 'args': {'schema': self.schema},
                           'tests': self.encode})
        doc = {'format': 'mtprobe-vectors/1', 'title': self.title, 'source': self.source,
               'generator': self.generator, 'spec': self.spec, 'requirements': [], 'notes': self.notes,
               'testGroups': groups}
        with open(os.path.join(OUT, self.stem + '.json'), 'w') as f:
            json.dump(doc, f, indent=1)
            f.write('\n')


N1 = '3e0549828cca27e966b301a48fece2fc'
N2 = 'a5cf4d33f4a11ea877ba4aa573907330'
N3 = '311c85db234aa2640afc4a76a735cf5b1f0fd68bd17fa181e1229ad867cc024d'


def hexfill(n, seed):
    return bytes((i * 131 + seed * 7 + (i >> 3)) & 0xff for i in range(n)).hex()


def service():
    f = VectorFile('mtproto_service', 'MTProto service messages: TL bytes and JSON',
                   'Objects of core.telegram.org/mtproto/service_messages and /schema/mtproto; bytes by Telethon')
    f.obj('msgs_ack with three ids', {'_': 'msgs_ack', 'msg_ids': ['6917134440123456512', '6917134440123456516',
                                                                   '-1']})
    f.obj('msgs_ack, empty', {'_': 'msgs_ack', 'msg_ids': []})
    f.obj('ping', {'_': 'ping', 'ping_id': '-8070450532247928832'})
    f.obj('ping_delay_disconnect', {'_': 'ping_delay_disconnect', 'ping_id': '42', 'disconnect_delay': 75})
    f.obj('pong', {'_': 'pong', 'msg_id': '6917134440123456512', 'ping_id': '42'})
    f.obj('bad_msg_notification, error 16 (msg_id too low)',
          {'_': 'bad_msg_notification', 'bad_msg_id': '6917134440123456512', 'bad_msg_seqno': 3, 'error_code': 16})
    f.obj('bad_server_salt', {'_': 'bad_server_salt', 'bad_msg_id': '6917134440123456512', 'bad_msg_seqno': 4,
                              'error_code': 48, 'new_server_salt': '-6092986117236262049'})
    f.obj('new_session_created', {'_': 'new_session_created', 'first_msg_id': '6917134440123456512',
                                  'unique_id': '9223372036854775807', 'server_salt': '-9223372036854775808'})
    f.obj('future_salts with two bare future_salt',
          {'_': 'future_salts', 'req_msg_id': '6917134440123456520', 'now': 1700000000,
           'salts': [{'_': 'future_salt', 'valid_since': 1700000000, 'valid_until': 1700001800,
                      'salt': '1234567890123456789'},
                     {'_': 'future_salt', 'valid_since': 1700001800, 'valid_until': 1700003600,
                      'salt': '-1234567890123456789'}]})
    f.obj('get_future_salts', {'_': 'get_future_salts', 'num': 64})
    f.obj('msgs_state_req', {'_': 'msgs_state_req', 'msg_ids': ['6917134440123456512', '6917134440123456516']})
    f.obj('msgs_state_info: one status byte per id',
          {'_': 'msgs_state_info', 'req_msg_id': '6917134440123456520', 'info': '0104'})
    f.obj('msgs_all_info', {'_': 'msgs_all_info', 'msg_ids': ['6917134440123456512'], 'info': '0c'})
    f.obj('msg_detailed_info', {'_': 'msg_detailed_info', 'msg_id': '6917134440123456512',
                                'answer_msg_id': '6917134440123456771', 'bytes': 2048, 'status': 0})
    f.obj('msg_new_detailed_info', {'_': 'msg_new_detailed_info', 'answer_msg_id': '6917134440123456771',
                                    'bytes': 2048, 'status': 0})
    f.obj('msg_resend_req', {'_': 'msg_resend_req', 'msg_ids': ['6917134440123456512']})
    f.obj('destroy_session', {'_': 'destroy_session', 'session_id': '-1'})
    f.obj('destroy_session_ok', {'_': 'destroy_session_ok', 'session_id': '77'})
    f.obj('destroy_session_none', {'_': 'destroy_session_none', 'session_id': '77'})
    f.obj('http_wait', {'_': 'http_wait', 'max_delay': 0, 'wait_after': 0, 'max_wait': 25000})
    f.obj('rpc_error', {'_': 'rpc_error', 'error_code': 420, 'error_message': 'FLOOD_WAIT_31'})
    f.obj('rpc_drop_answer', {'_': 'rpc_drop_answer', 'req_msg_id': '6917134440123456512'})
    f.obj('rpc_answer_unknown', {'_': 'rpc_answer_unknown'})
    f.obj('rpc_answer_dropped_running', {'_': 'rpc_answer_dropped_running'})
    f.obj('rpc_answer_dropped', {'_': 'rpc_answer_dropped', 'msg_id': '6917134440123456771', 'seq_no': 7,
                                 'bytes': 1024})
    f.obj('destroy_auth_key', {'_': 'destroy_auth_key'})
    f.obj('destroy_auth_key_ok', {'_': 'destroy_auth_key_ok'})
    f.obj('destroy_auth_key_none', {'_': 'destroy_auth_key_none'})
    f.obj('destroy_auth_key_fail', {'_': 'destroy_auth_key_fail'})
    f.write()


def auth():
    f = VectorFile('auth_exchange', 'Auth-key exchange messages: TL bytes and JSON',
                   'req_pq_multi and the first resPQ: the published bytes of '
                   'core.telegram.org/mtproto/samples-auth_key (message body, after auth_key_id, msg_id and '
                   'length); the other messages: bytes by Telethon',
                   spec=['https://core.telegram.org/mtproto/auth_key',
                         'https://core.telegram.org/mtproto/samples-auth_key'])
    # core.telegram.org/mtproto/samples-auth_key, "Sent payload" and "Received payload", from offset 20.
    f.obj('req_pq_multi (samples-auth_key)', {'_': 'req_pq_multi', 'nonce': '75e622f3bc7d714632b833821fd7bb0c'},
          data=bytes.fromhex('F18E7EBE75E622F3BC7D714632B833821FD7BB0C'))
    f.obj('resPQ with three fingerprints (samples-auth_key)',
          {'_': 'resPQ', 'nonce': '75e622f3bc7d714632b833821fd7bb0c',
           'server_nonce': '8ec53ec050cb2d475b457baf445b49f5', 'pq': '16e748b29522c68f',
           'server_public_key_fingerprints': [str(x) for x in struct.unpack(
               '<3q', bytes.fromhex('85FD64DE851D9DD0A5B7F709355FC30B216BE86C022BB4C3'))]},
          data=bytes.fromhex('63241605 75E622F3BC7D714632B833821FD7BB0C 8EC53EC050CB2D475B457BAF445B49F5'
                             '08 16E748B29522C68F 000000 15C4B51C 03000000 85FD64DE851D9DD0 A5B7F709355FC30B'
                             '216BE86C022BB4C3'.replace(' ', '')))
    f.obj('req_pq (the older request)', {'_': 'req_pq', 'nonce': N1})
    f.obj('p_q_inner_data_dc', {'_': 'p_q_inner_data_dc', 'pq': '17ed48941a08f981', 'p': '494c553b',
                                'q': '53911073', 'nonce': N1, 'server_nonce': N2, 'new_nonce': N3, 'dc': 2})
    f.obj('p_q_inner_data_temp_dc', {'_': 'p_q_inner_data_temp_dc', 'pq': '17ed48941a08f981', 'p': '494c553b',
                                     'q': '53911073', 'nonce': N1, 'server_nonce': N2, 'new_nonce': N3, 'dc': -2,
                                     'expires_in': 86400})
    f.obj('req_DH_params with 256 bytes of encrypted_data (4-byte length form)',
          {'_': 'req_DH_params', 'nonce': N1, 'server_nonce': N2, 'p': '494c553b', 'q': '53911073',
           'public_key_fingerprint': '-3414540481677951611', 'encrypted_data': hexfill(256, 1)})
    f.obj('server_DH_params_ok with a 592-byte answer',
          {'_': 'server_DH_params_ok', 'nonce': N1, 'server_nonce': N2, 'encrypted_answer': hexfill(592, 2)})
    f.obj('server_DH_params_fail', {'_': 'server_DH_params_fail', 'nonce': N1, 'server_nonce': N2,
                                    'new_nonce_hash': 'a1b2c3d4e5f60718293a4b5c6d7e8f90'})
    f.obj('server_DH_inner_data with a 256-byte prime and g_a',
          {'_': 'server_DH_inner_data', 'nonce': N1, 'server_nonce': N2, 'g': 3, 'dh_prime': hexfill(256, 3),
           'g_a': hexfill(256, 4), 'server_time': 1700000000})
    f.obj('client_DH_inner_data', {'_': 'client_DH_inner_data', 'nonce': N1, 'server_nonce': N2,
                                   'retry_id': '0', 'g_b': hexfill(256, 5)})
    f.obj('set_client_DH_params', {'_': 'set_client_DH_params', 'nonce': N1, 'server_nonce': N2,
                                   'encrypted_data': hexfill(336, 6)})
    for name, field, h in (('dh_gen_ok', 'new_nonce_hash1', 'cc'), ('dh_gen_retry', 'new_nonce_hash2', 'dd'),
                           ('dh_gen_fail', 'new_nonce_hash3', 'ee')):
        f.obj(name, {'_': name, 'nonce': N1, 'server_nonce': N2, field: h * 16})
    f.obj('bind_auth_key_inner', {'_': 'bind_auth_key_inner', 'nonce': '-2', 'temp_auth_key_id': '12345',
                                  'perm_auth_key_id': '-67890', 'temp_session_id': '1', 'expires_at': 1700086400})
    f.write()


def strings():
    f = VectorFile('strings', 'TL bytes and strings at the length boundaries',
                   'Serialisation rules of core.telegram.org/mtproto/serialize; bytes by Telethon',
                   notes={'NonCanonical': 'a length below 254 written in the 4-byte form: the spec writes one byte; '
                                          'lenient decoders accept it (and keep it for an exact re-encoding)',
                          'NonZeroPadding': 'padding bytes that are not zero'})
    for n in (0, 1, 2, 3, 4, 5, 252, 253, 254, 255, 256, 257, 1000, 1021):
        f.obj('rpc_error message of %d bytes' % n,
              {'_': 'rpc_error', 'error_code': n, 'error_message': ''.join('ABCDEFGHIJKLMNOPQRSTUVWXYZ_'[i % 27]
                                                                            for i in range(n))})
    for n in (0, 3, 253, 254, 600):
        f.obj('msgs_state_info with %d bytes of info' % n,
              {'_': 'msgs_state_info', 'req_msg_id': '1', 'info': hexfill(n, n)})
    f.obj('UTF-8 string (Cyrillic, emoji)', {'_': 'rpc_error', 'error_code': 400,
                                             'error_message': 'Привет, мир 👋'})
    f.obj('string that is not UTF-8 becomes {"bytes": hex}',
          {'_': 'rpc_error', 'error_code': 2, 'error_message': {'bytes': 'ff00c3'}})
    f.obj('string with an overlong UTF-8 form is not UTF-8',
          {'_': 'rpc_error', 'error_code': 3, 'error_message': {'bytes': 'c0af'}})
    f.obj('string with a UTF-8 surrogate is not UTF-8',
          {'_': 'rpc_error', 'error_code': 4, 'error_message': {'bytes': 'eda080'}})
    # Non-canonical forms: the bytes differ from what an encoder writes, so decode only.
    base = {'_': 'msgs_state_info', 'req_msg_id': '1', 'info': '0102'}
    head = struct.pack('<Iq', 0x04deb57d, 1)
    f.bad_decode('length 2 in the 4-byte form, lenient', head + bytes.fromhex('fe020000' '0102' '0000'), None,
                 flags=['NonCanonical'], result='acceptable', expect={'json': base})
    f.bad_decode('length 2 in the 4-byte form, strict', head + bytes.fromhex('fe020000' '0102' '0000'),
                 'tl_non_canonical', flags=['NonCanonical'], args={'strict': True})
    f.bad_decode('non-zero padding, lenient', head + bytes.fromhex('02' '0102' '7f'), None,
                 flags=['NonZeroPadding'], result='acceptable', expect={'json': base})
    f.bad_decode('non-zero padding, strict', head + bytes.fromhex('02' '0102' '7f'), 'tl_bad_padding',
                 flags=['NonZeroPadding'], args={'strict': True})
    f.bad_decode('length byte 0xff', head + bytes.fromhex('ff000000'), 'tl_bad_length')
    f.bad_decode('length past the end', head + bytes.fromhex('08010203'), 'tl_short')
    f.bad_decode('padding past the end', head + bytes.fromhex('0201'), 'tl_short')
    f.bad_decode('4-byte length cut short', head + bytes.fromhex('fe01'), 'tl_short')
    f.bad_decode('4-byte length past the end', head + bytes.fromhex('fe000100') + bytes(16), 'tl_short')
    f.write()


def containers():
    f = VectorFile('containers', 'msg_container, gzip_packed and rpc_result',
                   'Service messages of core.telegram.org/mtproto/service_messages; inner objects by Telethon, '
                   'framing (msg_id, seqno, length, body) per the spec; gzip by Python gzip, mtime 0')
    ack = {'_': 'msgs_ack', 'msg_ids': ['6917134440123456512']}
    ping = {'_': 'ping', 'ping_id': '7'}
    pong = {'_': 'pong', 'msg_id': '6917134440123456516', 'ping_id': '7'}
    f.obj('container with an ack and a ping',
          {'_': 'msg_container', 'messages': [message(6917134440123456513, 0, ack),
                                              message(6917134440123456516, 1, ping)]})
    f.obj('empty container', {'_': 'msg_container', 'messages': []})
    res = {'_': 'rpc_result', 'req_msg_id': '6917134440123456516', 'result': pong}
    f.obj('rpc_result carrying a pong', res)
    f.obj('rpc_result carrying an rpc_error', {'_': 'rpc_result', 'req_msg_id': '6917134440123456520',
                                               'result': {'_': 'rpc_error', 'error_code': 401,
                                                          'error_message': 'AUTH_KEY_UNREGISTERED'}})
    f.obj('rpc_result carrying boolTrue', {'_': 'rpc_result', 'req_msg_id': '5', 'result': True})
    f.obj('rpc_result carrying a Vector<long> (element type read from the length)',
          {'_': 'rpc_result', 'req_msg_id': '5', 'result': ['1', '-2', '3']})
    f.obj('gzip_packed carrying a msgs_ack', gz(ack))
    f.obj('rpc_result with a gzip_packed result', {'_': 'rpc_result', 'req_msg_id': '9',
                                                   'result': gz({'_': 'future_salts', 'req_msg_id': '9',
                                                                 'now': 1700000000, 'salts': []})})
    f.obj('container: new_session_created, rpc_result, ack',
          {'_': 'msg_container', 'messages': [
              message(6917134440123456769, 1, {'_': 'new_session_created', 'first_msg_id': '6917134440123456512',
                                               'unique_id': '1', 'server_salt': '2'}),
              message(6917134440123456773, 3, res),
              message(6917134440123456777, 4, ack)]})
    f.obj('container with a gzip_packed message',
          {'_': 'msg_container', 'messages': [message(6917134440123456781, 5, gz(pong))]})
    f.obj('msg_copy (a boxed copy of a message)', {'_': 'msg_copy', 'orig_message': {
        '_': 'message', 'msg_id': '6917134440123456512', 'seqno': 2, 'bytes': 12, 'body': ping}},
        data=struct.pack('<IIqii', 0xe06046b2, 0x5bb8e511, 6917134440123456512, 2, 12) + tl(ping))
    # A typed result: with the request's return type the vector's element type is known.
    typed = {'_': 'rpc_result', 'req_msg_id': '5', 'result': ['1']}
    f.decode.append({'tcId': f._id(), 'comment': 'rpc_result with result_type Vector<long>', 'result': 'valid',
                     'args': {'data': tl(typed).hex(), 'result_type': 'Vector<long>'}, 'expect': {'json': typed}})
    f.write()


def invalid():
    f = VectorFile('invalid', 'Malformed TL input and the error each gets',
                   'Mutations of valid Telethon-serialised objects (truncation, wrong ids, bad counts, lengths, '
                   'gzip data); expected codes are mtprobe error names (docs/shim.md)')
    pong = tl({'_': 'pong', 'msg_id': '1', 'ping_id': '2'})
    f.bad_decode('empty input', b'', 'tl_short')
    f.bad_decode('constructor id cut short', pong[:3], 'tl_short')
    f.bad_decode('pong cut inside ping_id', pong[:-1], 'tl_short')
    f.bad_decode('unknown constructor', struct.pack('<I', 0x12345678) + pong[4:], 'tl_bad_constructor')
    f.bad_decode('trailing bytes after pong', pong + bytes(4), 'trailing_bytes')
    f.bad_decode('typed decode: a pong is not a ResPQ', pong, 'tl_type_mismatch', args={'type': 'ResPQ'})
    f.bad_decode('typed decode: unknown type name', pong, 'tl_unknown_type', args={'type': 'NoSuchType'})
    ack = tl({'_': 'msgs_ack', 'msg_ids': ['1']})
    f.bad_decode('msgs_ack with a wrong vector id', ack[:4] + struct.pack('<I', 0x1cb5c416) + ack[8:],
                 'tl_bad_vector')
    f.bad_decode('msgs_ack with a negative count', ack[:8] + struct.pack('<i', -1) + ack[12:], 'tl_bad_count')
    f.bad_decode('msgs_ack with a count the bytes cannot hold', ack[:8] + struct.pack('<i', 1 << 28) + ack[12:],
                 'tl_bad_count')
    f.bad_decode('rpc_result whose result has an unknown constructor',
                 struct.pack('<IqI', 0xf35c6d01, 1, 0x997275b6), 'tl_bad_constructor')
    msg = tl({'_': 'msg_container', 'messages': [message(8, 1, {'_': 'ping', 'ping_id': '7'})]})
    f.bad_decode('container: message length not a multiple of 4', msg[:20] + struct.pack('<i', 11) + msg[24:],
                 'tl_bad_container')
    f.bad_decode('container: message length larger than the rest', msg[:20] + struct.pack('<i', 16) + msg[24:],
                 'tl_bad_container')
    f.bad_decode('container: body shorter than its length', msg[:20] + struct.pack('<i', 16) + msg[24:] + bytes(4),
                 'tl_bad_container')
    f.bad_decode('container: negative message count', msg[:4] + struct.pack('<i', -5) + msg[8:], 'tl_bad_count')
    junk = bytes.fromhex('1f8b0800000000000003ffffffff')
    f.bad_decode('gzip_packed: not gzip data', struct.pack('<I', 0x3072cfa1) + TLObject.serialize_bytes(junk),
                 'tl_gzip')
    zeros = gzip.compress(bytes(4096), compresslevel=9, mtime=0)
    f.bad_decode('gzip_packed: inflates past max_gzip (4096 zero bytes, limit 1024)',
                 struct.pack('<I', 0x3072cfa1) + TLObject.serialize_bytes(zeros), 'tl_gzip_limit',
                 args={'max_gzip': 1024})
    inner = gzip.compress(pong + bytes(4), compresslevel=9, mtime=0)
    f.bad_decode('gzip_packed: bytes left after the packed object',
                 struct.pack('<I', 0x3072cfa1) + TLObject.serialize_bytes(inner), 'tl_gzip')
    deep = pong
    for i in range(70):
        deep = struct.pack('<Iq', 0xf35c6d01, i) + deep
    f.bad_decode('rpc_result nested 70 deep', deep, 'tl_too_deep')
    f.bad_encode('unknown constructor name', {'_': 'no_such_thing'}, 'tl_unknown_type')
    f.bad_encode('missing field', {'_': 'pong', 'msg_id': '1'}, 'tl_bad_field')
    f.bad_encode('unknown field', {'_': 'pong', 'msg_id': '1', 'ping_id': '2', 'pong_id': '3'}, 'tl_bad_field')
    f.bad_encode('int where a long string is expected is accepted, text is not',
                 {'_': 'pong', 'msg_id': 'one', 'ping_id': '2'}, 'tl_type_mismatch')
    f.bad_encode('int out of range', {'_': 'http_wait', 'max_delay': 2147483648, 'wait_after': 0, 'max_wait': 0},
                 'tl_type_mismatch')
    f.bad_encode('int128 of the wrong length', {'_': 'req_pq_multi', 'nonce': '00'}, 'tl_type_mismatch')
    f.bad_encode('bytes that are not hex', {'_': 'msgs_state_info', 'req_msg_id': '1', 'info': 'zz'}, 'bad_hex')
    f.bad_encode('object without "_"', {'msg_id': '1', 'ping_id': '2'}, 'tl_bad_field')
    f.bad_encode('constructor of the wrong type in a typed field',
                 {'_': 'rpc_result', 'req_msg_id': '1', 'result': {'_': 'msg_container', 'messages': [
                     {'msg_id': '1', 'seqno': 1, 'body': 5}]}}, 'tl_type_mismatch')
    f.write()


if __name__ == '__main__':
    os.makedirs(OUT, exist_ok=True)
    service()
    auth()
    strings()
    containers()
    invalid()
