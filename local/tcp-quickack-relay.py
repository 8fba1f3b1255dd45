"""TCP front of the local MQTT broker: relays bytes to the broker's TLS port unchanged, and
acknowledges what clients send at once (TCP_QUICKACK), which Node cannot ask the kernel for.

Without it the kernel delays each ACK by ~40 ms, and a client with Nagle's algorithm on (aws-crt
offers no TCP_NODELAY) holds its next packet until then: ~44 ms per QoS 1 exchange.

Usage: python3 tcp-quickack-relay.py LISTEN_PORT TARGET_PORT   (LISTEN_PORT 0 picks a free port)
Prints the bound port on its first line. Exits when its standard input closes (its parent died).
"""
import os
import socket
import sys
import threading


def quickack(sock):
    try:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_QUICKACK, 1)
    except OSError:
        pass


def pump(source, destination, acknowledge_at_once):
    try:
        while True:
            if acknowledge_at_once:
                quickack(source)
            data = source.recv(65536)
            if acknowledge_at_once:
                quickack(source)
            if not data:
                break
            destination.sendall(data)
    except OSError:
        pass
    finally:
        for sock in (source, destination):
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def serve(client, target_port):
    try:
        upstream = socket.create_connection(("127.0.0.1", target_port))
    except OSError:
        client.close()
        return
    for sock in (client, upstream):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    threading.Thread(target=pump, args=(client, upstream, True), daemon=True).start()
    threading.Thread(target=pump, args=(upstream, client, False), daemon=True).start()


def exit_with_parent():
    sys.stdin.read()
    os._exit(0)


def main():
    listen_port, target_port = int(sys.argv[1]), int(sys.argv[2])
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("127.0.0.1", listen_port))
    server.listen(1024)
    print(server.getsockname()[1], flush=True)
    threading.Thread(target=exit_with_parent, daemon=True).start()
    while True:
        client, _ = server.accept()
        serve(client, target_port)


if __name__ == "__main__":
    main()
