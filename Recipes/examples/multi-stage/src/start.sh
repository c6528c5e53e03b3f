#!/bin/sh
echo "version $APP_VERSION"
