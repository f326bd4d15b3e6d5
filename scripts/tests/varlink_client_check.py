#!/usr/bin/env python3
"""Calls a running kansod with the third-party `varlink` package (PyPI) and prints one JSON
object of what it saw, for the Swift integration tests to check.

Usage: varlink_client_check.py SOCKET_PATH
"""
import json
import sys

import varlink


def error_of(call):
    """Runs a call expected to fail; returns the Varlink error name and parameters."""
    try:
        call()
    except varlink.VarlinkError as error:
        return {"error": error.error(), "parameters": error.parameters()}
    return {"error": None}


def main():
    address = "unix:" + sys.argv[1]
    result = {}
    with varlink.Client(address=address) as client:
        # get_interfaces/get_interface fetch the descriptions and parse them with the
        # package's own IDL parser: a syntax error in ours would raise here.
        result["interfaces"] = client.get_interfaces()
        result["parsed"] = {}
        for name in result["interfaces"]:
            interface = client.get_interface(name)
            result["parsed"][name] = sorted(interface.members.keys())
        with client.open("org.varlink.service") as service:
            info = service.GetInfo()
            result["info"] = {"vendor": info["vendor"], "product": info["product"], "version": info["version"]}
            result["unknownInterface"] = error_of(lambda: service.GetInterfaceDescription(interface="com.example.Nope"))
        with client.open("io.kanso.Agents") as agents:
            result["agents"] = agents.List()["agents"]
        with client.open("io.kanso.Admin") as admin:
            status = admin.Status()
            result["status"] = {"state": status["state"], "agents": len(status["agents"]),
                                "problems": status["problems"], "pid": status["pid"]}
    # Errors: call through a raw connection so that the client does not validate first.
    with varlink.Client(address=address) as client:
        connection = client.open_connection()

        def raw(message):
            connection.sendall(json.dumps(message).encode() + b"\0")
            data = b""
            while not data.endswith(b"\0"):
                chunk = connection.recv(65536)
                if not chunk:
                    break
                data += chunk
            return json.loads(data[:-1])

        result["unknownMethod"] = raw({"method": "io.kanso.Agents.Nope"})
        result["wrongType"] = raw({"method": "org.varlink.service.GetInterfaceDescription", "parameters": {"interface": 5}})
        result["afterErrors"] = raw({"method": "io.kanso.Agents.List"})["parameters"]["agents"] is not None
        connection.close()
    print(json.dumps(result))


if __name__ == "__main__":
    main()
