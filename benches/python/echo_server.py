"""The original Kamaelia echo server, for benches/echo.rs.

FastRestartServer(protocol=EchoProtocol) on 127.0.0.1:<port>; prints
"listening" once the socket is bound. Needs: pip install kamaelia==1.14.32
"""
import sys

from Kamaelia.Chassis.ConnectedServer import FastRestartServer
from Kamaelia.Protocol.EchoProtocol import EchoProtocol

port = int(sys.argv[1])
server = FastRestartServer(protocol=EchoProtocol, port=port)
print("listening", flush=True)
server.run()
